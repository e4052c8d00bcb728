/**
 * The `key` bucket of the store's snapshot laid out as revisions commit, so that a snapshot's layout
 * pass reads only the rows after what is laid out already instead of every row of the store. It holds a
 * few numbers per level of the bucket's tree. Only the removal of rows (a compaction's) changes what
 * the rows before it lay out to: the layout is then dropped, and one of every row is made again in the
 * background (or by the next snapshot, whichever ends first) and carried on from there.
 */
import { BucketLayout } from '../../snapshot/bolt-writer.js'
import { revisionEntrySizes } from '../../snapshot/etcd-db.js'
import { keyRowsAfter } from './etcd-snapshot.js'
import type { StoredChange } from './kv-codec.js'
import type { StoreReadTxn } from './store-file.js'

/** Rows laid out per turn of the event loop in the background (~1 ms). */
const ROWS_PER_TURN = 4096

/** A layout of the rows of every revision up to `through`, made while `removals` rows were removed. */
export interface LaidOutRows {
  layout: BucketLayout
  through: number
  /** The store's count of row removals begun and ended when the rows were read: even when none was running. */
  removals: number
}

export class KeyBucketLayout {
  private held: LaidOutRows | undefined

  /** `removals`: how many row removals have begun plus how many have ended (odd while one runs). */
  constructor(private readonly removals: () => number) {}

  /** Starts from the layout of a store with no rows as of revision `rev`, or a saved one of the rows up to it. */
  start(rev: number, saved = BucketLayout.empty()): void {
    this.held = { layout: saved, through: rev, removals: this.removals() }
  }

  /**
   * Revision `rev` committed with `changes`: laid out when it follows the layout's last revision (else a
   * later snapshot lays it out, reading rows from after the layout's last revision).
   */
  committed(rev: number, changes: readonly StoredChange[]): void {
    const kept = this.current()
    if (kept?.through !== rev - 1) return
    for (const { kv, tombstone } of changes) {
      const { keyBytes, valueBytes } = revisionEntrySizes(kv, tombstone)
      kept.layout.add(keyBytes, valueBytes)
    }
    kept.through = rev
  }

  /**
   * What a read transaction opened in the same turn of the event loop can start its layout from: a copy
   * of the layout of some of its first rows (none when there is no layout), to carry on over the rest.
   */
  startFor(): LaidOutRows {
    const removals = this.removals()
    const kept = this.current()
    return kept ? { layout: kept.layout.copy(), through: kept.through, removals } : { layout: BucketLayout.empty(), through: 0, removals }
  }

  /** A snapshot laid out its rows through `done.through`: kept when no removal ran meanwhile and it is ahead of this one's. */
  offer(done: LaidOutRows): void {
    if (done.removals % 2 !== 0 || done.removals !== this.removals()) return
    const kept = this.current()
    if (!kept || kept.through < done.through) this.held = done
  }

  /** Whether a layout is kept. */
  get kept(): boolean {
    return this.current() !== undefined
  }

  /**
   * Carries `laidOut` (startFor() of `txn`) on over the rows `txn` reads after it, a slice per turn of the
   * event loop until `stopped()`, and offers the result.
   */
  async catchUp(txn: StoreReadTxn, laidOut: LaidOutRows, stopped: () => boolean): Promise<void> {
    let rows = 0
    for (const entry of keyRowsAfter(txn, laidOut)) {
      laidOut.layout.add(entry.key.length, entry.valueBytes)
      if (++rows % ROWS_PER_TURN !== 0) continue
      await new Promise((resolve) => setImmediate(resolve))
      if (stopped()) return
    }
    this.offer(laidOut)
  }

  /** The layout of every row up to revision `rev`, as numbers (BucketLayout.save), when there is one. */
  savedAt(rev: number): number[] | undefined {
    const kept = this.current()
    return kept?.through === rev ? kept.layout.save() : undefined
  }

  /** The layout kept, unless rows were removed since (or are being removed). */
  private current(): LaidOutRows | undefined {
    const removals = this.removals()
    if (this.held && (this.held.removals !== removals || removals % 2 !== 0)) this.held = undefined
    return this.held
  }
}
