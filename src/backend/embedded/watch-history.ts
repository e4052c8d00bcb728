/**
 * Where a range watcher's catch-up finds its history: the revisions table from its start revision on, or
 * the key index, whose keys in the range carry their own revisions, so that only the rows the watcher
 * matches are read. The index is used when visiting the range's keys costs less than reading every row
 * the table holds for the same revisions (a range over a few of many keys, or over keys with no history).
 */
import type { KeyIndex } from './key-index.js'
import type { Revision } from './revision.js'
import { KEYS_PER_ROW_READ } from './row-counts.js'
import type { WatchableStore } from './views.js'

/** At most this many revisions are gathered from the index at once: what a catching-up watcher holds. */
const REVS_PER_GATHER = 8192

/**
 * The revisions from..upTo of the keys in [key, end) ('' = every key >= key), gathered from the key index
 * a slice of keys at a time, then in revision order (main, then sub: a txn's changes in their order).
 */
export class IndexedHistory {
  /** the next key to visit; undefined once every key of the range was visited */
  private resume: string | undefined
  private readonly revs: Revision[] = []

  constructor(
    private readonly index: KeyIndex,
    key: string,
    private readonly end: string,
    readonly from: number,
    readonly upTo: number,
    /** the store's compaction when gathering began: a later one may remove some of these rows */
    readonly compactRev: number,
  ) {
    this.resume = key
  }

  get gathered(): boolean {
    return this.resume === undefined
  }

  /** Visits more of the range's keys, about `budget` rows' worth; returns the rows' worth spent. */
  gather(budget: number): number {
    if (this.resume === undefined) return 0
    const maxKeys = Math.max(1, Math.floor(budget * KEYS_PER_ROW_READ))
    const { next, visited } = this.index.rangeRevisions(this.resume, this.end, this.from, this.upTo, maxKeys, this.revs)
    this.resume = next
    if (next === undefined) this.revs.sort((a, b) => a.main - b.main || a.sub - b.sub)
    return visited / KEYS_PER_ROW_READ
  }

  /** The gathered revisions from `minRev` on, in revision order. */
  *after(minRev: number): Generator<Revision> {
    let lo = 0
    let hi = this.revs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.revs[mid]!.main < minRev) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < this.revs.length; i++) yield this.revs[i]!
  }
}

/**
 * How a range watcher due to see `minRev` next catches up to `committed`: from the key index (for the
 * revisions up to the returned history's upTo) when that is the cheaper, else undefined: from the table.
 */
export function rangeHistory(store: WatchableStore, key: string, end: string, minRev: number, committed: number): IndexedHistory | undefined {
  const index = store.index
  const upTo = Math.min(committed, minRev + REVS_PER_GATHER - 1)
  const live = index.countNow('', '')
  // deleted keys not yet compacted away are visited too: the range is taken to hold its share of them
  const keys = live === 0 ? index.size : (index.countNow(key, end) * index.size) / live
  // a revision after the compaction has at least one row; the window of row counts knows how many
  const rows = store.rowsBetween(minRev, upTo) ?? upTo - minRev + 1
  if (keys / KEYS_PER_ROW_READ >= rows) return undefined
  return new IndexedHistory(index, key, end, minRev, upTo, store.compactRev)
}
