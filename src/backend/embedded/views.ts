/** What the store hands out (etcd's mvcc/kv.go): read views of a revision, range options and results, commit listeners. */
import type { KeyValue } from '../backend.js'
import type { KeyIndex } from './key-index.js'
import type { StoredChange } from './kv-codec.js'
import type { Revision } from './revision.js'

export interface RangeOptions {
  /** At most this many kvs (0 = all); count still covers the whole range. */
  limit: number
  /** Read as of this revision; <= 0 means the view's revision. */
  rev: number
  /** Only count. */
  count: boolean
}

export interface RangeResult {
  kvs: KeyValue[]
  count: number
  /** The view's revision (etcd reports it, not the requested one). */
  rev: number
}

/**
 * A consistent view of the store (etcd's mvcc ReadView). `end`: undefined = the single key,
 * empty = every key >= key, otherwise the half-open range [key, end).
 */
export interface ReadView {
  readonly rev: number
  readonly firstRev: number
  range(key: Buffer, end: Buffer | undefined, opts: RangeOptions): RangeResult
}

/** Called once per revision, in revision order, after the revision is durable. */
export type CommitListener = (rev: number, changes: readonly StoredChange[]) => void

/** What a watch hub needs of a store: its revisions, its index and rows, and each new revision as it commits. */
export interface WatchableStore {
  /** The newest revision readers see. */
  readonly committedRev: number
  /** Watches needing a revision below this one are canceled as compacted. */
  readonly compactRev: number
  readonly index: KeyIndex
  onCommit(listener: CommitListener): () => void
  /** The rows of revisions from..to (inclusive), in revision order. */
  history(from: number, to: number): Iterable<{ rev: Revision; change: StoredChange }>
  /** Rows the revisions table holds for revisions from..to, or undefined when that is not known. */
  rowsBetween(from: number, to: number): number | undefined
  readRow(rev: Revision): StoredChange
  rangeKeys(key: Buffer, end: Buffer | undefined, curRev: number, opts: RangeOptions): RangeResult
}
