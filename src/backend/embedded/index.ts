import type { Backend, ResponseHeader } from '../backend.js'
import { EmbeddedKV } from './kv.js'
import { EmbeddedLease } from './lease.js'
import { Lessor } from './lessor.js'
import { MvccStore } from './mvcc-store.js'
import { WatchHub } from './watch-hub.js'

export interface EmbeddedOptions {
  dataDir: string
  /** This member's name (etcd's --name). */
  name: string
  /** etcd's --max-txn-ops. */
  maxTxnOps: number
  /** etcd's --experimental-watch-progress-notify-interval, in ms (default 10 minutes). */
  progressNotifyIntervalMs?: number
  /** Lease timing; etcd's defaults follow from its 1 s election timeout. */
  minLeaseTtl?: number
  leaseCheckIntervalMs?: number
}

const ELECTION_TIMEOUT_MS = 1000

/** The default backend: a durable single-member store with etcd's MVCC semantics. */
export async function openEmbeddedBackend(opts: EmbeddedOptions): Promise<Backend> {
  const store = await MvccStore.open(opts.dataDir)
  const header = (revision: number): ResponseHeader => ({
    clusterId: store.clusterId,
    memberId: store.memberId,
    revision,
    raftTerm: store.raftTerm,
  })
  const lessor = new Lessor(store, store.openTable<number>('leases'), {
    minTtl: opts.minLeaseTtl ?? Math.ceil((1.5 * ELECTION_TIMEOUT_MS) / 1000),
    checkIntervalMs: opts.leaseCheckIntervalMs ?? 500,
    restartExtensionMs: ELECTION_TIMEOUT_MS,
    now: Date.now,
  })
  store.leaseAttachments = lessor
  lessor.restore()
  const kv = new EmbeddedKV(store, { maxTxnOps: opts.maxTxnOps, leaseExists: (id) => lessor.exists(id), header })
  const watch = new WatchHub(store, { header, progressNotifyIntervalMs: opts.progressNotifyIntervalMs ?? 600_000 })
  return {
    kv,
    lease: new EmbeddedLease(lessor, () => header(store.committedRev)),
    watch,
    async close() {
      watch.close()
      await lessor.close()
      await store.close()
    },
  }
}
