/**
 * etcd's server, disk, mvcc, watch, lease and auth metric families for the embedded store, under etcd's
 * names, types, buckets and meanings: a single member that has been its own leader since it opened, whose proposals are the writes
 * it applies, and whose one lmdb commit is both what etcd's WAL fsync and its backend commit are (the
 * moment a write is durable). Families with nothing to stand for here (raft peers, snapshots of a raft
 * log, the v2 store) are left out; the README lists them.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AuthStore } from '../../auth/auth-store.js'
import type { Lessor } from './lessor.js'
import type { EmbeddedMaintenance } from './maintenance.js'
import type { MvccStore } from './mvcc-store.js'
import type { WatchHub } from './watch-hub.js'

/** Histogram buckets as etcd makes them (Prometheus's ExponentialBuckets): `count` of them from `first`, doubling. */
const doubling = (first: number, count: number) => Array.from({ length: count }, (_, i) => first * 2 ** i)

/** etcd's buckets for both disk histograms: 1 ms, doubling up to 8.192 s. */
const diskBuckets = doubling(0.001, 14)

export interface StoreMetricsOptions {
  /** The backend quota in bytes (none: no quota gauge). */
  quotaBytes: number | undefined
}

/** The parts of the embedded backend whose work the families report. */
export interface StoreParts {
  store: MvccStore
  lessor: Lessor
  watch: WatchHub
  maintenance: EmbeddedMaintenance
  auth: AuthStore
}

export function storeMetrics({ store, lessor, watch, maintenance, auth }: StoreParts, opts: StoreMetricsOptions): Registry {
  const registry = new Registry()
  const registers = [registry]
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read())
      },
    })

  const fsync = new Histogram({
    name: 'etcd_disk_wal_fsync_duration_seconds',
    help: 'The latency distributions of fsync called by WAL.',
    buckets: diskBuckets,
    registers,
  })
  const commit = new Histogram({
    name: 'etcd_disk_backend_commit_duration_seconds',
    help: 'The latency distributions of commit called by backend.',
    buckets: diskBuckets,
    registers,
  })
  const defrag = new Histogram({
    name: 'etcd_disk_backend_defrag_duration_seconds',
    help: 'The latency distribution of backend defragmentation.',
    // etcd's: 100 ms, doubling up to 409.6 s
    buckets: doubling(0.1, 13),
    registers,
  })
  const failed = new Counter({ name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers })
  store.observeFile({
    logged(seconds) {
      fsync.observe(seconds)
    },
    committed(seconds) {
      commit.observe(seconds)
    },
    failed(writes) {
      failed.inc(writes)
    },
    defragmented(seconds) {
      defrag.observe(seconds)
    },
  })

  const counter = (name: string, help: string) => new Counter({ name, help, registers })
  const granted = counter('etcd_debugging_lease_granted_total', 'The total number of granted leases.')
  const renewed = counter('etcd_debugging_lease_renewed_total', 'The number of renewed leases seen by the leader.')
  const revoked = counter('etcd_debugging_lease_revoked_total', 'The total number of revoked leases.')
  const expired = counter('etcd_debugging_server_lease_expired_total', 'The total number of expired leases.')
  const ttls = new Histogram({
    name: 'etcd_debugging_lease_ttl_total',
    help: 'Bucketed histogram of lease TTLs.',
    // etcd's: 1 s, doubling up to 2^23 s
    buckets: doubling(1, 24),
    registers,
  })
  lessor.observe({
    granted(ttl) {
      granted.inc()
      ttls.observe(ttl)
    },
    renewed: () => renewed.inc(),
    revoked: () => revoked.inc(),
    expired: () => expired.inc(),
  })

  const histogram = (name: string, help: string, buckets: number[]) => new Histogram({ name, help, buckets, registers })
  // etcd's buckets, in milliseconds: the index's 0.5 doubling up to 4096, a chunk's 1 up to 4096, the
  // whole removal's 100 up to 819200
  const indexPause = histogram(
    'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds',
    'Bucketed histogram of index compaction pause duration.',
    doubling(0.5, 14),
  )
  const dbPause = histogram('etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds', 'Bucketed histogram of db compaction pause duration.', doubling(1, 13))
  const dbTotal = histogram('etcd_debugging_mvcc_db_compaction_total_duration_milliseconds', 'Bucketed histogram of db compaction total duration.', doubling(100, 14))
  const compactedRows = counter('etcd_debugging_mvcc_db_compaction_keys_total', 'Total number of db keys compacted.')
  store.observeCompaction({
    indexCompacted: (ms) => indexPause.observe(ms),
    chunkRemoved: (ms) => dbPause.observe(ms),
    finished(rows, ms) {
      compactedRows.inc(rows)
      dbTotal.observe(ms)
    },
  })

  gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.', () => watch.counts.streams)
  gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', () => watch.counts.watchers)
  gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', () => watch.counts.slowWatchers)
  // etcd's events wait here between its store and a stream's send loop; the hub hands them to the stream
  // as it finds them, so none wait
  new Gauge({ name: 'etcd_debugging_mvcc_pending_events_total', help: 'Total number of pending events to be sent.', registers }).set(0)
  let eventsCounted = 0
  new Counter({
    name: 'etcd_debugging_mvcc_events_total',
    help: 'Total number of events sent by this member.',
    registers,
    collect() {
      const sent = watch.counts.eventsSent
      this.inc(sent - eventsCounted)
      eventsCounted = sent
    },
  })

  gauge('etcd_debugging_mvcc_total_put_size_in_bytes', 'The total size of put kv pairs seen by this member.', () => store.putBytes)
  gauge('etcd_mvcc_db_open_read_transactions', 'The number of currently open read transactions', () => store.openReadTransactions)
  gauge('etcd_debugging_auth_revision', 'The current revision of auth store.', () => auth.revision)
  // etcd's: 10 ms doubling up to 163.84 s and 655.36 s
  const hashes = histogram('etcd_mvcc_hash_duration_seconds', 'The latency distribution of storage hash operation.', doubling(0.01, 15))
  const snapshots = histogram('etcd_disk_backend_snapshot_duration_seconds', 'The latency distribution of backend snapshots.', doubling(0.01, 17))
  maintenance.observe({
    hashed: (seconds) => hashes.observe(seconds),
    snapshotEnded: (seconds) => snapshots.observe(seconds),
  })

  // it became the leader of its one-member cluster once, when it opened
  new Counter({ name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers }).inc()
  new Gauge({ name: 'etcd_server_is_learner', help: 'Whether or not this member is a learner. 1 if is, 0 otherwise.', registers }).set(0)
  new Gauge({
    name: 'etcd_server_id',
    help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
    labelNames: ['server_id'],
    registers,
  }).set({ server_id: store.memberId.toString(16) }, 1)
  if (opts.quotaBytes !== undefined) {
    new Gauge({ name: 'etcd_server_quota_backend_bytes', help: 'Current backend storage quota size in bytes.', registers }).set(opts.quotaBytes)
  }
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', () => store.appliedIndex)
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', () => store.appliedIndex)
  gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', () => store.pendingWrites)
  gauge('etcd_disk_defrag_inflight', 'Whether or not defrag is active on the member. 1 means active, 0 means not.', () => (store.defragmenting ? 1 : 0))
  gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', () => store.index.countNow('', ''))
  gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.', () => store.committedRev)
  gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.', () => store.compactRev)
  return registry
}
