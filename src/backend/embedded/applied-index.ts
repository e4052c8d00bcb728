/** etcd's raft (and applied) index on a single member: one entry per durable revision and per other applied request, kept across restarts. */
import { type FileWrites, META } from './logged-writes.js'
import type { StoreFile } from './store-file.js'

/** The meta entry counting applied requests without a revision. */
const OTHER_ENTRIES = 'otherEntries'

/**
 * Applied requests that made no revision (lease grants, revokes of leases without keys, alarm changes,
 * compactions, and one per start for its election) count as raft entries too, as they do in etcd.
 */
export class AppliedIndex {
  /** Durable entries without a revision, and the last one handed to lmdb. */
  private durable: number
  private staged: number

  /** Loads the count and adds this start's election entry (durable before the store serves anything). */
  static async open(file: StoreFile): Promise<AppliedIndex> {
    const entries = ((file.meta.get(OTHER_ENTRIES) as number | undefined) ?? 0) + 1
    await file.meta.put(OTHER_ENTRIES, entries)
    return new AppliedIndex(entries)
  }

  private constructor(entries: number) {
    this.durable = this.staged = entries
  }

  /** The index once `committedRev` is durable. */
  value(committedRev: number): number {
    return committedRev + this.durable
  }

  /** Counts one applied request without a revision, written by `w` (its write's). Returns its entry for commit(). */
  stage(w: FileWrites): number {
    const entries = ++this.staged
    w.put(META, OTHER_ENTRIES, entries)
    return entries
  }

  /** The staged entry failed to persist (as did every later one): the count goes back to before it. */
  unstage(entry: number): void {
    this.staged = entry - 1
  }

  /** The staged entry is durable. */
  commit(entries: number): void {
    if (entries > this.durable) this.durable = entries
  }
}
