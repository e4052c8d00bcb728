#!/usr/bin/env node
import { Command } from 'commander'
import { registerCertsCommands } from './cli/certs.js'
import { registerClusterStatusCommands } from './cli/cluster-status.js'
import { registerKvCommands } from './cli/kv-commands.js'
import { registerServeCommand } from './cli/serve.js'
import { registerSnapshotCommands } from './cli/snapshot.js'
import { registerBackupCommands } from './cli/backup.js'

const program = new Command('etcdgw').description('etcd v3 API on HTTP/JSON, with kubeadm-compatible etcd PKI tooling')
registerServeCommand(program)
registerCertsCommands(program)
registerSnapshotCommands(program)
registerBackupCommands(program)
registerClusterStatusCommands(program)
registerKvCommands(program)
await program.parseAsync()
