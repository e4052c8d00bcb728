import type { Backend, ResponseHeader } from '../backend.js'
import { WatchHub } from '../embedded/watch-hub.js'
import { grpcMessageLimit } from '../../proto-size.js'
import { RemoteCluster } from './cluster.js'
import { EndpointPool } from './endpoint-pool.js'
import { RemoteKV } from './kv.js'
import { RemoteLease } from './lease.js'
import { RemoteMaintenance } from './maintenance.js'
import { Replica, type ReplicaOptions } from './replica/replica.js'
import { ReplicaKV } from './replica/replica-kv.js'
import { ReplicaLease } from './replica/replica-lease.js'
import { DEFAULT_REPLICA_MAX_BYTES } from './replica/replica-store.js'
import { ReplicaWatch } from './replica/replica-watch.js'
import { RemoteWatch } from './watch.js'

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
 * etcd's services. With the replica, reads and watches are answered from it (see replica/).
 */
export async function openRemoteBackend(opts: RemoteOptions): Promise<RemoteBackend> {
  const pool = new EndpointPool(opts)
  await pool.probeAll()
  const remoteLease = new RemoteLease(pool)
  const remoteKV = new RemoteKV(pool)
  const remoteWatch = new RemoteWatch(pool)
  let replica: Replica | undefined
  try {
    replica =
      opts.replica === false
        ? undefined
        : await Replica.open(pool, {
            maxBytes: DEFAULT_REPLICA_MAX_BYTES,
            compactionProbeMs: DEFAULT_COMPACTION_PROBE_MS,
            ...opts.replica,
          })
  } catch (err) {
    remoteLease.close()
    pool.close()
    throw err
  }
  const served = replica ? withReplica(replica, remoteKV, remoteLease, remoteWatch, opts.requestTimeoutMs) : undefined
  return {
    kv: served?.kv ?? remoteKV,
    lease: served?.lease ?? remoteLease,
    watch: served?.watch ?? remoteWatch,
    maintenance: new RemoteMaintenance(pool),
    cluster: new RemoteCluster(pool),
    upstreams: () => pool.health(),
    reloadTls: () => pool.reloadTls(),
    async close() {
      served?.close()
      replica?.close()
      remoteWatch.close()
      remoteLease.close()
      pool.close()
    },
  }
}

function withReplica(replica: Replica, kv: RemoteKV, lease: RemoteLease, watch: RemoteWatch, writeWaitMs: number) {
  const hub = new WatchHub(replica.store, {
    header: (revision: number): ResponseHeader => replica.header(revision),
    progressNotifyIntervalMs: PROGRESS_NOTIFY_INTERVAL_MS,
    maxResponseBytes: grpcMessageLimit(ETCD_MAX_REQUEST_BYTES),
  })
  replica.onResync((firstMissing) => hub.cancelAll(firstMissing))
  // the hub's own notifications follow etcd's --experimental-watch-progress-notify-interval
  replica.onProgressNotify(() => hub.progressTick())
  return {
    kv: new ReplicaKV(kv, replica, { readWaitMs: READ_WAIT_MS, writeWaitMs }),
    lease: new ReplicaLease(lease, replica, writeWaitMs),
    watch: new ReplicaWatch(replica, hub, watch),
    close: () => hub.close(),
  }
}
