/** `etcdgw version` (as `etcdctl version`) and `etcdgw --version` (as `etcd --version`): our release and the etcd API it serves. */
import type { Command } from 'commander'
import { ETCD_SERVER_VERSION, ETCDGW_VERSION } from '../version.js'

/** etcd's API version: the major.minor of the release whose API we serve. */
const API_VERSION = ETCD_SERVER_VERSION.split('.').slice(0, 2).join('.')

export const versionText = () => `etcdgw version: ${ETCDGW_VERSION}\nAPI version: ${API_VERSION}\n`

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('prints the version of etcdgw and of the etcd API it serves')
    .action(() => void process.stdout.write(versionText()))
}
