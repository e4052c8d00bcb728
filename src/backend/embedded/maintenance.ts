import { createHash } from 'node:crypto'
import {
  AlarmAction,
  type AlarmRequest,
  type AlarmResponse,
  type HashResponse,
  type Maintenance,
  type ResponseHeader,
  type SnapshotChunk,
  type StatusResponse,
} from '../backend.js'
import { Errors } from '../../errors.js'
import { ETCD_SERVER_VERSION } from '../../version.js'
import { layOutBolt, OUTPUT_BYTES } from '../../snapshot/bolt-writer.js'
import { ReusedBuffers } from '../../snapshot/reused-buffers.js'
import type { AlarmStore } from './alarm-store.js'
import { etcdBuckets, SNAPSHOT_TABLES } from './etcd-snapshot.js'
import type { MvccStore } from './mvcc-store.js'
import { storeHash } from './store-hash.js'
import { TurnTaking } from '../../turn-taking.js'

/** etcd's snapshot chunk size. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024
/**
 * Page buffers a stream keeps for reuse: its consumer lets go of a blob once written to the socket, a
 * few megabytes behind the writer at most.
 */
const REUSED_BUFFERS = 4

/** How long the store's own maintenance work took. */
export interface MaintenanceObserver {
  /** A hash of the store took `seconds`. */
  hashed(seconds: number): void
  /** A snapshot stream ended (sent whole or not) `seconds` after its read transaction opened. */
  snapshotEnded(seconds: number): void
}

const secondsSince = (start: number) => (performance.now() - start) / 1000

/** etcd's Maintenance service on the single-member embedded store: it is always its own leader. */
export class EmbeddedMaintenance implements Maintenance {
  private observer: MaintenanceObserver | undefined
  /** Snapshot streams' work, one stream at a time: twenty at once stall other clients no more than one. */
  private readonly snapshotTurns = new TurnTaking()

  constructor(
    private readonly store: MvccStore,
    private readonly alarms: AlarmStore,
    private readonly header: (revision: number) => ResponseHeader,
  ) {}

  async alarm(req: AlarmRequest): Promise<AlarmResponse> {
    switch (req.action) {
      case AlarmAction.GET:
        return { alarms: this.alarms.list(req.alarm) }
      case AlarmAction.ACTIVATE:
        return { alarms: [await this.alarms.activate(req.memberId, req.alarm)] }
      case AlarmAction.DEACTIVATE: {
        const cleared = await this.alarms.deactivate(req.memberId, req.alarm)
        return { alarms: cleared ? [cleared] : [] }
      }
      default:
        throw Errors.unknownAlarmAction(req.action as number)
    }
  }

  async status(): Promise<StatusResponse> {
    const rev = this.store.committedRev
    return {
      header: this.header(rev),
      version: ETCD_SERVER_VERSION,
      dbSize: this.store.fileSize(),
      dbSizeInUse: this.store.sizeInUse(),
      leader: this.store.memberId,
      // no raft log here: the applied requests stand for its entries (a refused write makes none)
      raftIndex: this.store.appliedIndex,
      raftTerm: this.store.raftTerm,
      raftAppliedIndex: this.store.appliedIndex,
      errors: this.alarms.describe(),
      isLearner: false,
    }
  }

  observe(observer: MaintenanceObserver): void {
    this.observer = observer
  }

  async hash(): Promise<HashResponse> {
    // the hash covers what the store file holds: every write acknowledged before the request, at least
    await this.store.writesSettled()
    const rev = this.store.storedRev
    const start = performance.now()
    const hash = storeHash(this.store)
    this.observer?.hashed(secondsSince(start))
    return { header: this.header(rev), hash }
  }

  async defragment(): Promise<void> {
    await this.store.defragment()
  }

  /**
   * etcd's snapshot stream: the db file in etcd's format, laid out from one read transaction (the
   * `key` bucket carried on from the layout the store keeps as revisions commit) and sent as it is
   * written (no copy on disk, nothing of the store's size in memory), in 32 KiB blobs, then the sha256
   * of it all. The pages' buffers are reused as the consumer releases their blobs.
   */
  async *snapshot(): AsyncGenerator<SnapshotChunk> {
    const start = performance.now()
    // every write acknowledged before the snapshot is in the file the transaction reads
    await this.store.writesSettled()
    const txn = this.store.readTransaction(SNAPSHOT_TABLES)
    // in the same turn: the layout kept is of rows the transaction reads
    const laidOut = this.store.keyBucketLayout.startFor()
    try {
      // streams take turns: the layout pass whole, then each step of pages (the writer yields between them)
      const layout = await this.snapshotTurns.take(() => layOutBolt(etcdBuckets(txn, laidOut)))
      // the layout of every row read: the next snapshot carries it on
      this.store.keyBucketLayout.offer(laidOut)
      const sha = createHash('sha256')
      const buffers = new ReusedBuffers(OUTPUT_BYTES, REUSED_BUFFERS)
      let sent = 0
      // each step of pages asked for only once the client has taken the previous step's blobs
      for await (const blob of blobs(this.snapshotTurns.each(layout.pages(buffers)))) {
        sent += blob.length
        sha.update(blob)
        // the blob's view holds its buffer until the consumer is done with it
        buffers.hold(blob)
        yield { remainingBytes: layout.size - sent, blob, release: once(() => buffers.release(blob)) }
      }
      if (sent !== layout.size) throw Errors.snapshotIncomplete(sent, layout.size)
      yield { remainingBytes: 0, blob: sha.digest() }
    } finally {
      txn.done()
      this.observer?.snapshotEnded(secondsSince(start))
    }
  }

  async moveLeader(targetId: bigint): Promise<void> {
    if (targetId !== this.store.memberId) throw Errors.badLeaderTransferee()
  }
}

/** `release`, which does nothing after its first call. */
function once(release: () => void): () => void {
  let released = false
  return () => {
    if (released) return
    released = true
    release()
  }
}

/** `pages` cut into blobs of SNAPSHOT_CHUNK_BYTES (the last one shorter), copied only where a blob spans two buffers. */
async function* blobs(pages: AsyncIterable<Buffer[]>): AsyncGenerator<Buffer> {
  let partial = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES)
  let filled = 0
  for await (const buffers of pages) {
    for (const buffer of buffers) {
      let at = 0
      if (filled > 0) {
        const n = buffer.copy(partial, filled, 0)
        filled += n
        at = n
        if (filled < SNAPSHOT_CHUNK_BYTES) continue
        yield partial
        partial = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES)
        filled = 0
      }
      for (; buffer.length - at >= SNAPSHOT_CHUNK_BYTES; at += SNAPSHOT_CHUNK_BYTES) yield buffer.subarray(at, at + SNAPSHOT_CHUNK_BYTES)
      filled = buffer.copy(partial, 0, at)
    }
  }
  if (filled > 0) yield partial.subarray(0, filled)
}
