#!/usr/bin/env node
import { Command } from 'commander'
import { registerCommands } from './cli/commands.js'

const program = new Command('etcdgw').description('etcd v3 API on HTTP/JSON, with kubeadm-compatible etcd PKI tooling')
await registerCommands(program, process.argv.slice(2))
await program.parseAsync()
