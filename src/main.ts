#!/usr/bin/env node
import { Command } from 'commander'
import { registerCommands } from './cli/commands.js'
import { versionText } from './cli/version.js'

const program = new Command('etcdgw')
  .description('etcd v3 API on HTTP/JSON, with kubeadm-compatible etcd PKI tooling')
  .version(versionText().trimEnd(), '--version', 'prints the version of etcdgw and of the etcd API it serves')
await registerCommands(program, process.argv.slice(2))
await program.parseAsync()
