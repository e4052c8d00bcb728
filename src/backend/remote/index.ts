import type { Backend, Credentials, Lease, ResponseHeader } from '../backend.js'
import { WatchHub } from '../embedded/watch-hub.js'
import { grpcMessageLimit } from '../../proto-size.js'
import { RemoteAuth } from './auth.js'
import { EtcdAuthProbe } from './auth-probe.js'
import { RemoteCluster } from './cluster.js'
import { type Calls, EndpointPool } from './endpoint-pool.js'
import { KeepAliveStream } from './keepalive-stream.js'
import { type KeepAlives, KeepAlivesByToken } from './keepalives-by-token.js'
import { RemoteKV } from './kv.js'
import { RemoteLease } from './lease.js'
import { RemoteMaintenance } from './maintenance.js'
import { Replica, type ReplicaOptions } from './replica/replica.js'
import { ReplicaKV } from './replica/replica-kv.js'
import { ReplicaLease } from './replica/replica-lease.js'
import { replicaMetrics } from './replica/replica-metrics.js'
import { DEFAULT_REPLICA_MAX_BYTES } from './replica/replica-store.js'
import { ReplicaWatch } from './replica/replica-watch.js'
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
  /** The watch-fed replica that reads and watches are served from (default: on); false sends every request to etcd. */
  replica?: Partial<ReplicaOptions> | false
}

export interface RemoteBackend extends Backend {
  /** Re-reads --cacert/--cert/--key for new connections; false when they did not change (see EndpointPool.reloadTls). */
  reloadTls(): boolean
}

const DEFAULT_COMPACTION_PROBE_MS = 5_000
/** A linearizable read that waits longer than this for the replica asks etcd instead. */
const READ_WAIT_MS = 1_000
/** etcd's defaults for what a member's watch responses look like (the hub serves them in its place). */
const PROGRESS_NOTIFY_INTERVAL_MS = 600_000
const ETCD_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024

/**
 * The Backend in front of a real etcd cluster over gRPC; every member connection carries all of
 * etcd's services. A caller's token goes to etcd with each of their requests (its own upstream watch and
 * keepalive streams too), and etcd checks it. Requests without a token are answered from the replica
 * (see replica/) while etcd has auth disabled.
 */
export async function openRemoteBackend(opts: RemoteOptions): Promise<RemoteBackend> {
  const pool = new EndpointPool(opts)
  await pool.probeAll()
  const authProbe = new EtcdAuthProbe(pool)
  // the first answer is awaited as long as any request to etcd, so that the replica loads at start when it can
  await authProbe.start(opts.requestTimeoutMs)
  const keepAlives = new KeepAliveStream(pool)
  const watch = new RemoteWatch(pool)
  const tokenWatches = new WatchesByToken(pool)
  const tokenKeepAlives = new KeepAlivesByToken(pool)
  const services = (calls: Calls, leaseKeepAlives: KeepAlives) => ({
    kv: new RemoteKV(calls),
    lease: new RemoteLease(calls, leaseKeepAlives),
    maintenance: new RemoteMaintenance(calls),
    cluster: new RemoteCluster(calls),
    auth: new RemoteAuth(calls, (enabled) => authProbe.learned(enabled)),
  })
  const plain = services(pool, keepAlives)
  let replica: Replica | undefined
  try {
    // with auth enabled in etcd every request needs a user's token, which the replica cannot check: it
    // loads and answers only while etcd is known to have auth disabled
    if (opts.replica !== false) {
      replica = await Replica.open(pool, {
        maxBytes: DEFAULT_REPLICA_MAX_BYTES,
        compactionProbeMs: DEFAULT_COMPACTION_PROBE_MS,
        answersWhile: () => authProbe.knownDisabled(),
        ...opts.replica,
      })
    }
  } catch (err) {
    keepAlives.close()
    pool.close()
    throw err
  }
  const served = replica ? withReplica(replica, plain.kv, plain.lease, watch, opts.requestTimeoutMs) : undefined
  const metrics = upstreamMetrics(pool)
  if (replica) replicaMetrics(replica, metrics)
  const backend: RemoteBackend = {
    ...plain,
    ...served?.services,
    watch: served?.watch ?? watch,
    // the one place a request is routed around the replica: a caller's token goes to etcd, which checks it
    as: (credentials: Credentials) => {
      const { token, commonName } = credentials
      if (token === undefined) {
        if (commonName !== undefined) authProbe.admit(commonName)
        return backend
      }
      return { ...backend, ...services(pool.withToken(token), tokenKeepAlives.of(token)), watch: tokenWatches.of(token) }
    },
    upstreams: () => pool.health(),
    metrics,
    reloadTls: () => pool.reloadTls(),
    async close() {
      authProbe.stop()
      served?.close()
      replica?.close()
      watch.close()
      tokenWatches.close()
      keepAlives.close()
      tokenKeepAlives.close()
      pool.close()
    },
  }
  return backend
}

function withReplica(replica: Replica, kv: RemoteKV, lease: Lease, watch: RemoteWatch, writeWaitMs: number) {
  const hub = new WatchHub(replica.store, {
    header: (revision: number): ResponseHeader => replica.header(revision),
    progressNotifyIntervalMs: PROGRESS_NOTIFY_INTERVAL_MS,
    maxResponseBytes: grpcMessageLimit(ETCD_MAX_REQUEST_BYTES),
  })
  replica.onResync((firstMissing) => hub.cancelAll(firstMissing))
  // the hub's own notifications follow etcd's --experimental-watch-progress-notify-interval
  replica.onProgressNotify(() => hub.progressTick())
  return {
    services: {
      kv: new ReplicaKV(kv, replica, { readWaitMs: READ_WAIT_MS, writeWaitMs }),
      lease: new ReplicaLease(lease, replica, writeWaitMs),
    },
    watch: new ReplicaWatch(replica, hub, watch, READ_WAIT_MS),
    close: () => hub.close(),
  }
}
