import type { Backend, Credentials } from '../backend.js'
import { Errors } from '../../errors.js'
import { RemoteAuth } from './auth.js'
import { RemoteCluster } from './cluster.js'
import { type Calls, EndpointPool } from './endpoint-pool.js'
import { KeepAliveStream } from './keepalive-stream.js'
import { RemoteKV } from './kv.js'
import { RemoteLease } from './lease.js'
import { RemoteMaintenance } from './maintenance.js'
import { RemoteWatch } from './watch.js'
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
 * etcd's services. A caller's token goes to etcd with each of their requests, and etcd checks it.
 */
export async function openRemoteBackend(opts: RemoteOptions): Promise<RemoteBackend> {
  const pool = new EndpointPool(opts)
  await pool.probeAll()
  const keepAlives = new KeepAliveStream(pool)
  const watch = new RemoteWatch(pool)
  const tokenWatches = new WatchesByToken(pool)
  const unary = (calls: Calls) => ({
    kv: new RemoteKV(calls),
    lease: new RemoteLease(calls, keepAlives),
    maintenance: new RemoteMaintenance(calls),
    cluster: new RemoteCluster(calls),
    auth: new RemoteAuth(calls),
  })
  const backend: RemoteBackend = {
    ...unary(pool),
    watch,
    as: (credentials: Credentials) => {
      const { token, commonName } = credentials
      if (token === undefined && commonName !== undefined) throw Errors.certificateIdentityRemote(commonName)
      return token === undefined ? backend : { ...backend, ...unary(pool.withToken(token)), watch: tokenWatches.of(token) }
    },
    upstreams: () => pool.health(),
    reloadTls: () => pool.reloadTls(),
    async close() {
      watch.close()
      tokenWatches.close()
      keepAlives.close()
      pool.close()
    },
  }
  return backend
}
