import type { Backend, Credentials } from '../backend.js'
import { RemoteAuth } from './auth.js'
import { EtcdAuthProbe } from './auth-probe.js'
import { RemoteCluster } from './cluster.js'
import { type Calls, EndpointPool } from './endpoint-pool.js'
import { KeepAliveStream } from './keepalive-stream.js'
import { type KeepAlives, KeepAlivesByToken } from './keepalives-by-token.js'
import { RemoteKV } from './kv.js'
import { RemoteLease } from './lease.js'
import { RemoteMaintenance } from './maintenance.js'
import { RemoteWatch } from './watch.js'
import { upstreamMetrics } from './upstream-metrics.js'
import { WatchesByToken } from './watches-by-token.js'

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
 * etcd's services. A caller's token goes to etcd with each of their requests (its own upstream watch and
 * keepalive streams too), and etcd checks it.
 */
export async function openRemoteBackend(opts: RemoteOptions): Promise<RemoteBackend> {
  const pool = new EndpointPool(opts)
  await pool.probeAll()
  const authProbe = new EtcdAuthProbe(pool)
  await authProbe.start(1_000)
  const keepAlives = new KeepAliveStream(pool)
  const watch = new RemoteWatch(pool)
  const tokenWatches = new WatchesByToken(pool)
  const tokenKeepAlives = new KeepAlivesByToken(pool)
  const services = (calls: Calls, leaseKeepAlives: KeepAlives) => ({
    kv: new RemoteKV(calls),
    lease: new RemoteLease(calls, leaseKeepAlives),
    maintenance: new RemoteMaintenance(calls),
    cluster: new RemoteCluster(calls),
    auth: new RemoteAuth(calls),
  })
  const backend: RemoteBackend = {
    ...services(pool, keepAlives),
    watch,
    as: (credentials: Credentials) => {
      const { token, commonName } = credentials
      if (token === undefined) {
        if (commonName !== undefined) authProbe.admit(commonName)
        return backend
      }
      return { ...backend, ...services(pool.withToken(token), tokenKeepAlives.of(token)), watch: tokenWatches.of(token) }
    },
    upstreams: () => pool.health(),
    metrics: upstreamMetrics(pool),
    reloadTls: () => pool.reloadTls(),
    async close() {
      watch.close()
      tokenWatches.close()
      keepAlives.close()
      tokenKeepAlives.close()
      pool.close()
    },
  }
  return backend
}
