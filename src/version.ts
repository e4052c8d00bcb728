import { readFileSync } from 'node:fs'

/** The etcd release whose API we serve (reported where etcd reports its own version). */
export const ETCD_SERVER_VERSION = '3.4.23'
/** etcd's cluster version: the major.minor the members agree on, patch 0. */
export const ETCD_CLUSTER_VERSION = '3.4.0'

/** Our own release, from package.json (dist/src/version.js and src/version.ts both sit two levels down). */
export const ETCDGW_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version
