/** One write (etcd's storeTxnWrite, kvstore_txn.go): its changes share one revision, are visible to its own reads at once, and can be taken back until end(). */
import type { KeyValue } from '../backend.js'
import type { KeyIndex } from './key-index.js'
import type { StoredChange } from './kv-codec.js'
import type { LeaseAttachments } from './lease-attachments.js'
import type { Revision } from './revision.js'
import type { RangeOptions, RangeResult, ReadView } from './views.js'
import type { FileWrites } from './logged-writes.js'

const EMPTY = Buffer.alloc(0)
const RESOLVED = Promise.resolve()

/** The parts of the store a write works on. */
export interface TxnStore {
  readonly index: KeyIndex
  readonly attachments: LeaseAttachments
  readonly compactRev: number
  rangeKeys(key: Buffer, end: Buffer | undefined, curRev: number, opts: RangeOptions): RangeResult
  /** A row's create revision and version. */
  readVersion(rev: Revision): { createRevision: number; version: number }
  /** Keeps an applied row readable until it is durable; unstage() drops a revision's rows. */
  stage(rev: Revision, change: StoredChange): void
  unstage(main: number): void
  /** Writes the txn's revision (with `alongside`); `applied` runs the moment it is durable; a failure aborts the txn. */
  persist(txn: WriteTxn, alongside?: (w: FileWrites) => void, applied?: () => void): Promise<void>
  /** Writes of an applied request that makes no revision. */
  persistOther(writes: (w: FileWrites) => void, applied?: () => void): Promise<void>
}

export class WriteTxn implements ReadView {
  readonly changes: StoredChange[] = []
  /** Bytes of the keys and values put (etcd's put size). */
  putBytes = 0
  /** per change: its key and the lease the key had before, to take the change back */
  private readonly undo: { key: string; lease: bigint }[] = []

  constructor(
    private readonly store: TxnStore,
    readonly beginRev: number,
  ) {}

  get rev(): number {
    return this.changes.length > 0 ? this.beginRev + 1 : this.beginRev
  }

  get firstRev(): number {
    return this.store.compactRev
  }

  range(key: Buffer, end: Buffer | undefined, opts: RangeOptions): RangeResult {
    return this.store.rangeKeys(key, end, this.rev, opts)
  }

  /** Returns the revision the put gets. */
  put(key: Buffer, value: Buffer, lease: bigint): number {
    const main = this.beginRev + 1
    const k = key.toString('latin1')
    const prevRev = this.store.index.get(k, main)
    const prev = prevRev ? this.store.readVersion(prevRev) : undefined
    const kv: KeyValue = {
      key,
      value,
      lease,
      createRevision: prev ? prev.createRevision : main,
      modRevision: main,
      version: (prev ? prev.version : 0) + 1,
    }
    this.add(k, { kv, tombstone: false })
    this.putBytes += key.length + value.length
    return main
  }

  /** Returns [deleted count, revision]. */
  deleteRange(key: Buffer, end: Buffer | undefined): [number, number] {
    const keys: string[] = []
    this.store.index.range(key.toString('latin1'), end?.toString('latin1'), this.rev, (k) => {
      keys.push(k.key)
    })
    const main = this.beginRev + 1
    for (const k of keys) {
      const kv: KeyValue = {
        key: Buffer.from(k, 'latin1'),
        value: EMPTY,
        lease: 0n,
        createRevision: 0,
        modRevision: main,
        version: 0,
      }
      this.add(k, { kv, tombstone: true })
    }
    if (keys.length !== 0 || this.changes.length > 0) return [keys.length, main]
    return [0, this.beginRev]
  }

  /**
   * Takes back every change of a write that failed part way or could not be persisted (the index and
   * lease attachments return to how they were). etcd 3.4 panics instead, e.g. on a txn that deletes a key
   * and then puts it with ignore_value in a nested branch.
   */
  abort(): void {
    const { index, attachments } = this.store
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const { key, lease } = this.undo[i]!
      index.undo(key)
      attachments.attach(key, lease)
    }
    this.store.unstage(this.beginRev + 1)
    this.changes.length = 0
    this.undo.length = 0
    this.putBytes = 0
  }

  /**
   * Commits, with `alongside` in the same lmdb transaction; resolves when durable. `applied` runs at
   * the moment the write becomes visible to readers, before anyone can observe it (etcd applies a
   * revoke's key deletion and the lease's removal as one step).
   */
  end(alongside?: (w: FileWrites) => void, applied?: () => void): Promise<void> {
    if (this.changes.length > 0) return this.store.persist(this, alongside, applied)
    if (alongside) return this.store.persistOther(alongside, applied)
    applied?.()
    return RESOLVED
  }

  private add(key: string, change: StoredChange): void {
    const rev = { main: this.beginRev + 1, sub: this.changes.length }
    const { index, attachments } = this.store
    this.store.stage(rev, change)
    this.undo.push({ key, lease: attachments.leaseOf(key) })
    if (change.tombstone) {
      index.tombstone(key, rev)
      attachments.detach(key)
    } else {
      index.put(key, rev)
      attachments.attach(key, change.kv.lease)
    }
    this.changes.push(change)
  }
}
