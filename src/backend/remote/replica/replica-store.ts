/** The replica's MVCC store: the embedded backend's key index over rows held in memory, fed revision by revision from etcd's watch. */
import type { KeyValue } from '../../backend.js'
import { Errors } from '../../../errors.js'
import { indexRange, type IndexRangeSource } from '../../embedded/index-range.js'
import { KeyIndex } from '../../embedded/key-index.js'
import { decodeChange, decodeChangeKey, encodeChange, type StoredChange } from '../../embedded/kv-codec.js'
import type { Revision } from '../../embedded/revision.js'
import type { CommitListener, RangeOptions, RangeResult, WatchableStore } from '../../embedded/views.js'

/**
 * Bytes one key costs besides its row (41 bytes + key + value) and the key again as a string: its
 * index entry (history, tree and map entries) and its row's Buffer object and map entry. Measured at
 * 200,000 keys (450 bytes, the same for values of 0 to 1 KiB); test/backend/remote/replica-store.test.ts
 * fails when a measurement leaves the estimate.
 */
export const BYTES_PER_KEY = 450

/** The estimated memory of one row of the replica. */
export const rowCost = (keyBytes: number, rowBytes: number): number => BYTES_PER_KEY + keyBytes + rowBytes

/** --replica-max-bytes' default: 2 GiB, half of Node's default heap limit on a 64-bit machine. */
export const DEFAULT_REPLICA_MAX_BYTES = 2 * 1024 * 1024 * 1024

/**
 * Rows are stored encoded (the revisions table's row format), one Buffer per change, by main revision:
 * one allocation per row, and a key's row does not keep any wire message alive.
 *
 * The store holds the keyspace as of its load revision (`loadRev`) and every revision after it; reads
 * at or above `readFrom` are answered here, and watches from `watchFrom` on.
 */
export class ReplicaStore implements WatchableStore, IndexRangeSource {
  index = new KeyIndex()
  /** The newest revision applied. */
  committedRev = 0
  /** The revision the keyspace was loaded at: no history before it is held. */
  loadRev = 0
  /** etcd's compaction, as far as the replica knows it (-1: none). */
  etcdCompactRev = -1
  /** Estimated heap bytes the rows and index take. */
  bytes = 0
  private rows = new Map<number, Buffer | Buffer[]>()
  private readonly listeners = new Set<CommitListener>()

  /** The oldest revision a read can be answered at. */
  get readFrom(): number {
    return Math.max(this.loadRev, this.etcdCompactRev)
  }

  /** The oldest revision a watch can start from (the load revision's own events are not held). */
  get watchFrom(): number {
    return Math.max(this.loadRev + 1, this.etcdCompactRev)
  }

  /** For the watch hub: a watch needing anything older is canceled as compacted. */
  get compactRev(): number {
    return this.watchFrom
  }

  /** Empties the store for a load at `rev`. */
  reset(rev: number): void {
    this.index = new KeyIndex()
    this.rows = new Map()
    this.committedRev = this.loadRev = rev
    this.etcdCompactRev = -1
    this.bytes = 0
  }

  /** Adds one key of the snapshot being loaded (its revision is at or below the load revision). */
  load(kv: KeyValue): void {
    const rev = this.addRow(kv.modRevision, { kv, tombstone: false })
    this.index.put(kv.key.toString('latin1'), rev)
  }

  /** Applies one revision's changes (in etcd's order) and tells the listeners. */
  apply(main: number, changes: readonly StoredChange[]): void {
    if (main <= this.committedRev) throw new Error(`replica: revision ${main} applied after ${this.committedRev}`)
    for (const change of changes) {
      const rev = this.addRow(main, change)
      const key = change.kv.key.toString('latin1')
      if (change.tombstone) this.index.tombstone(key, rev)
      else this.index.put(key, rev)
    }
    this.committedRev = main
    for (const l of this.listeners) l(main, changes)
  }

  /** Follows a compaction of etcd's: drops what no read at or after `rev` can see. */
  compact(rev: number): void {
    if (rev <= this.etcdCompactRev) return
    this.etcdCompactRev = rev
    this.index.compact(rev)
    for (const [main, rows] of this.rows) {
      if (main > rev) continue
      // subs are positions: a revision keeps its array (with holes) while any of its rows lives
      let live = 0
      ;(Array.isArray(rows) ? rows : [rows]).forEach((row, sub) => {
        const { key } = decodeChangeKey(row)
        if (this.index.has(key, { main, sub })) return void live++
        this.bytes -= rowCost(key.length, row.length)
        if (Array.isArray(rows)) delete rows[sub]
      })
      if (live === 0) this.rows.delete(main)
    }
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  *history(from: number, to: number): Generator<{ rev: Revision; change: StoredChange }> {
    for (let main = Math.max(from, this.loadRev + 1); main <= Math.min(to, this.committedRev); main++) {
      const rows = this.rows.get(main)
      if (rows === undefined) continue
      if (!Array.isArray(rows)) yield { rev: { main, sub: 0 }, change: decodeChange(rows) }
      else for (let sub = 0; sub < rows.length; sub++) if (rows[sub]) yield { rev: { main, sub }, change: decodeChange(rows[sub]!) }
    }
  }

  /** Not counted: a watch's catch-up takes every revision to hold at least one row. */
  rowsBetween(): undefined {
    return undefined
  }

  readRow(rev: Revision): StoredChange {
    const rows = this.rows.get(rev.main)
    const row = Array.isArray(rows) ? rows[rev.sub] : rev.sub === 0 ? rows : undefined
    if (!row) throw Errors.revisionMissing(rev.main, rev.sub)
    return decodeChange(row)
  }

  rangeKeys(key: Buffer, end: Buffer | undefined, curRev: number, opts: RangeOptions): RangeResult {
    let rev = opts.rev
    if (rev > curRev) throw Errors.futureRev()
    if (rev <= 0) rev = curRev
    if (rev < this.readFrom) throw Errors.compacted()
    return { ...indexRange(this, key, end, rev, opts), rev: curRev }
  }

  /** At the newest revision the tree's live counts answer; at an older one the keys are visited. */
  countAt(from: string, end: string, atRev: number): number | undefined {
    return atRev === this.committedRev ? this.index.countNow(from, end) : undefined
  }

  private addRow(main: number, change: StoredChange): Revision {
    const row = encodeChange(change)
    this.bytes += rowCost(change.kv.key.length, row.length)
    const rows = this.rows.get(main)
    if (rows === undefined) {
      this.rows.set(main, row)
      return { main, sub: 0 }
    }
    if (Array.isArray(rows)) return { main, sub: rows.push(row) - 1 }
    this.rows.set(main, [rows, row])
    return { main, sub: 1 }
  }
}
