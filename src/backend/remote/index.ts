import type { Backend } from '../backend.js'
import { RemoteCluster } from './cluster.js'
import { EndpointPool } from './endpoint-pool.js'
import { RemoteKV } from './kv.js'
import { RemoteLease } from './lease.js'
import { RemoteMaintenance } from './maintenance.js'
import { RemoteWatch } from './watch.js'
import { upstreamMetrics } from './upstream-metrics.js'

export interface RemoteOptions {
  /** etcdctl's --endpoints: `https://host:port`, `http://host:port` or `host:port`. */
  endpoints: string[]
  /** etcdctl's --cacert, --cert, --key (files). */
  cacert?: string
  cert?: string
  key?: string
  /** Each request, retries included, ends within this time. */
  requestTimeoutMs: number
}

export interface RemoteBackend extends Backend {
  /** Re-reads --cacert/--cert/--key for new connections; false when they did not change (see EndpointPool.reloadTls). */
  reloadTls(): boolean
}

/**
 * The Backend in front of a real etcd cluster over gRPC; every member connection carries all of
 * etcd's services.
 */
export async function openRemoteBackend(opts: RemoteOptions): Promise<RemoteBackend> {
  const pool = new EndpointPool(opts)
  await pool.probeAll()
  const lease = new RemoteLease(pool)
  const watch = new RemoteWatch(pool)
  return {
    kv: new RemoteKV(pool),
    lease,
    watch,
    maintenance: new RemoteMaintenance(pool),
    cluster: new RemoteCluster(pool),
    upstreams: () => pool.health(),
    metrics: upstreamMetrics(pool),
    reloadTls: () => pool.reloadTls(),
    async close() {
      watch.close()
      lease.close()
      pool.close()
    },
  }
}
