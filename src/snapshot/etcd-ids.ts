/**
 * The member and cluster IDs etcd derives for a new cluster (etcdserver/api/membership: newMember and
 * genID), so a data dir restored here has the IDs `etcdctl snapshot restore` gives with the same flags.
 */
import { createHash } from 'node:crypto'
import { Errors } from '../errors.js'

export interface ClusterFlags {
  /** --name */
  name: string
  /** --initial-cluster: name=peerURL,… (a name may repeat, one URL each time) */
  initialCluster: string
  /** --initial-cluster-token */
  initialClusterToken: string
}

const sha1Id = (b: Buffer) => createHash('sha1').update(b).digest().readBigUInt64BE(0)

/** A member's ID: the sha1 of its sorted peer URLs and the cluster token. */
function memberId(peerUrls: string[], token: string): bigint {
  return sha1Id(Buffer.from([...peerUrls].sort().join('') + token))
}

export function clusterIds(flags: ClusterFlags): { memberId: bigint; clusterId: bigint } {
  const urls = new Map<string, string[]>()
  for (const entry of flags.initialCluster.split(',')) {
    const eq = entry.indexOf('=')
    if (eq <= 0 || eq === entry.length - 1) throw Errors.restoreRefused(`--initial-cluster: ${JSON.stringify(entry)} is not name=peerURL`)
    const name = entry.slice(0, eq)
    const url = new URL(entry.slice(eq + 1)).toString().replace(/\/$/, '')
    urls.set(name, [...(urls.get(name) ?? []), url])
  }
  const own = urls.get(flags.name)
  if (!own) throw Errors.restoreRefused(`couldn't find local name ${JSON.stringify(flags.name)} in the initial cluster configuration`)
  const ids = [...urls.values()].map((u) => memberId(u, flags.initialClusterToken)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const all = Buffer.alloc(8 * ids.length)
  ids.forEach((id, i) => all.writeBigUInt64BE(id, 8 * i))
  return { memberId: memberId(own, flags.initialClusterToken), clusterId: sha1Id(all) }
}
