/** etcd's compaction (kvstore_compaction.go): reads below the compact revision fail at once; superseded rows leave the file later, in chunks, and a crash part way resumes at start-up. */
import { Errors } from '../../errors.js'
import type { AppliedIndex } from './applied-index.js'
import type { KeyIndex } from './key-index.js'
import { decodeChangeKey } from './kv-codec.js'
import { META } from './logged-writes.js'
import { decodeRevKey, encodeRevKey } from './revision.js'
import type { StoreFile } from './store-file.js'

const CHUNK_ROWS = 10_000
const noop = () => undefined

/** What a compaction took, in whole milliseconds as etcd reports them (truncated). */
export interface CompactionObserver {
  /** The key index was compacted (writes wait meanwhile). */
  indexCompacted(ms: number): void
  /** A chunk of rows was removed and more follow (writes wait for its transaction). */
  chunkRemoved(ms: number): void
  /** The superseded rows are gone: `rows` of them, `ms` after their removal started. */
  finished(rows: number, ms: number): void
}

const msSince = (start: number) => Math.floor(performance.now() - start)

export class Compaction {
  /** Reads below this revision fail (-1: never compacted). */
  rev = -1
  private finishedRev = -1
  /** The revision whose compaction is recorded durably. */
  private markedRev = -1
  /** The removal of superseded rows, one compaction after the other. */
  private physical: Promise<void> = Promise.resolve()
  /** Removals of rows begun plus removals ended: odd while one runs. */
  removals = 0
  private observer: CompactionObserver | undefined

  constructor(
    private readonly file: StoreFile,
    private readonly index: KeyIndex,
    private readonly applied: AppliedIndex,
  ) {}

  observe(observer: CompactionObserver): void {
    this.observer = observer
  }

  /** The revision of the last compaction recorded durably (-1 when none). */
  recordedRev(): number {
    return (this.file.meta.get('compactScheduled') as number | undefined) ?? -1
  }

  /** The revision of the last compaction whose rows were all removed (-1 when none). */
  private recordedFinishedRev(): number {
    return (this.file.meta.get('compactFinished') as number | undefined) ?? -1
  }

  /** Whether every compaction recorded had its rows removed (none begun since), as of `rev`'s compaction (-1: none). */
  settledAt(rev: number): boolean {
    return this.recordedRev() === rev && this.recordedFinishedRev() === rev
  }

  /** Whether the index's compaction is recorded durably (not while a compaction is being recorded). */
  get recorded(): boolean {
    return this.rev === this.markedRev
  }

  /**
   * Applies the recorded compaction to an index rebuilt at start-up (unless it was compacted at that
   * revision already: `indexCompactedAt`) and finishes its removal if a crash cut it short. Returns the
   * recorded revision (-1 when none).
   */
  async restore(indexCompactedAt: number): Promise<number> {
    const scheduled = this.recordedRev()
    this.finishedRev = this.recordedFinishedRev()
    if (scheduled > 0) {
      this.rev = this.markedRev = scheduled
      if (scheduled > indexCompactedAt) this.index.compact(scheduled)
      if (this.finishedRev < scheduled) await this.deleteSuperseded(scheduled)
    }
    return scheduled
  }

  /**
   * etcd's Compact: from now on reads below `rev` fail. Resolves once the compaction is recorded durably;
   * `physical` resolves when the superseded rows are gone from disk too.
   */
  async compact(rev: number, currentRev: number): Promise<{ physical: Promise<void> }> {
    if (rev <= this.rev) throw Errors.compacted()
    if (rev > currentRev) throw Errors.futureRev()
    await this.file.writable()
    this.rev = rev
    const indexStart = performance.now()
    this.index.compact(rev)
    this.observer?.indexCompacted(msSince(indexStart))
    let entry = 0
    const recorded = this.file.commit(
      (w) => {
        w.put(META, 'compactScheduled', rev)
        entry = this.applied.stage(w)
      },
      () => this.applied.commit(entry),
      (err) => {
        this.applied.unstage(entry)
        throw Errors.persistFailed('the compaction', err)
      },
    )
    const writesBefore = this.file.writesSettled()
    await recorded
    this.markedRev = rev
    this.physical = this.idle().then(async () => {
      await writesBefore
      await this.deleteSuperseded(rev)
    })
    return { physical: this.physical }
  }

  /** Settles once no removal is running. */
  idle(): Promise<void> {
    return this.physical.then(noop, noop)
  }

  /** Removes the rows at or below `rev` that the index no longer references. */
  private async deleteSuperseded(rev: number): Promise<void> {
    this.removals++
    try {
      await this.removeSuperseded(rev)
    } finally {
      this.removals++
    }
  }

  private async removeSuperseded(rev: number): Promise<void> {
    const start = performance.now()
    let batch: Buffer[] = []
    let removed = 0
    const flush = async () => {
      const keys = batch
      batch = []
      removed += keys.length
      // not held by a defragment: it waits for this compaction before copying
      const revs = this.file.revs
      await revs.batch(() => {
        for (const k of keys) void revs.remove(k)
      })
    }
    for (const { key, value } of this.file.revs.getRange({ start: encodeRevKey(0, 0), end: encodeRevKey(rev + 1, 0) })) {
      const row = decodeChangeKey(value)
      if (!this.index.has(row.key, decodeRevKey(key))) batch.push(Buffer.from(key))
      if (batch.length >= CHUNK_ROWS) {
        const chunkStart = performance.now()
        await flush()
        this.observer?.chunkRemoved(msSince(chunkStart))
      }
    }
    if (batch.length > 0) await flush()
    this.finishedRev = rev
    await this.file.meta.put('compactFinished', rev)
    this.observer?.finished(removed, msSince(start))
  }
}
