/** etcd's mvcc store (kvstore.go) on lmdb: revisions assigned by one apply path, readers see only durable revisions, the key index rebuilt at start-up. */
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Database } from 'lmdb'
import { Errors } from '../../errors.js'
import { AppliedIndex } from './applied-index.js'
import { Compaction, type CompactionObserver } from './compaction.js'
import { prepareDataDir } from './data-dir.js'
import { indexRange, type IndexRangeSource } from './index-range.js'
import { KeyBucketLayout } from './key-bucket-layout.js'
import { KeyIndex, type SavedHistory } from './key-index.js'
import { decodeChange, decodeChangeKey, decodeChangeVersion, encodeChange, type StoredChange } from './kv-codec.js'
import { LeaseAttachments } from './lease-attachments.js'
import { startMember, type MemberIdentity } from './member-identity.js'
import { decodeRevKey, encodeRevKey, type Revision } from './revision.js'
import { encodeRestartState, readRestartState, type RestartState, writeRestartState } from './restart-state.js'
import { KEYS_PER_ROW_READ, RowCounts } from './row-counts.js'
import { type FileWrites, META, REVISIONS } from './logged-writes.js'
import { type FileObserver, STORE_FILE, StoreFile, type StoreReadTxn } from './store-file.js'
import type { CommitListener, RangeOptions, RangeResult, ReadView, WatchableStore } from './views.js'
import { WriteTxn, type TxnStore } from './write-txn.js'

/** A count at a past revision may always read back this many rows written since, however small its range. */
const MIN_CORRECTION_ROWS = 64
const noop = () => undefined
/** The store file's record of the last restart state saved (its id). */
const RESTART_STATE_KEY = 'restartState'
/**
 * The index is saved in the background at most this often, when at least SAVE_AFTER_ROWS rows came since
 * the last save (a crash's restart reads those rows back).
 */
const SAVE_EVERY_MS = 60_000
const SAVE_AFTER_ROWS = 10_000
/** Keys of the index a save encodes per turn of the event loop (~10 ms; 1,000,000 keys at once held it 0.2–0.5 s). */
const KEYS_SAVED_PER_TURN = 20_000
/** Keys added to the index's map of keys per turn of the event loop after a start-up from the restart state (~10 ms). */
const KEYS_MAPPED_PER_TURN = 20_000

/** How the store's index was made at start-up. */
export interface StoreStartup {
  /** Loaded from the restart state saved beside the store file (else rebuilt from the rows). */
  fromRestartState: boolean
  /** Rows of the revisions table read (after the restart state's revision, when there was one). */
  rowsRead: number
  /** Batches the log held and the store file did not (logged before the last stop), written to it first. */
  batchesReplayed: number
}

/**
 * A revisions table (row per change, keyed by (main, sub) revision) plus the in-memory key index.
 *
 * Two revisions matter: `currentRev` is what writes have applied (the serial apply path sees it) and
 * `committedRev` is what is durable on disk. Readers read at `committedRev`, so nobody ever sees a
 * write that a crash could take back; a write resolves once its revision is durable. Concurrent writes
 * share a batch of the store file's write-ahead log (group commit), flushed with one fdatasync; lmdb
 * takes logged batches later (`storedRev`), and until then their rows are read from memory.
 */
export class MvccStore implements TxnStore, WatchableStore, IndexRangeSource {
  currentRev = 1
  committedRev = 1
  /** The last revision lmdb holds (the ones after it up to `committedRev` are logged and served from memory). */
  storedRev = 1
  readonly index = new KeyIndex()
  readonly clusterId: bigint
  readonly memberId: bigint
  readonly raftTerm: number
  /** Rows applied and not yet in lmdb (being logged, or logged and waiting for lmdb), by main revision. */
  private readonly pending = new Map<number, StoredChange[]>()
  private readonly compaction: Compaction
  /** The `key` bucket of a snapshot, laid out as revisions commit. */
  readonly keyBucketLayout: KeyBucketLayout
  private readonly rowCounts = new RowCounts()
  private closed = false
  private readonly listeners = new Set<CommitListener>()
  private defragmentation: Promise<void> | undefined
  private putTotal = 0
  /** Rows the restart state on disk does not cover. */
  private unsavedRows = 0
  private saving: Promise<boolean> | undefined
  /** The snapshot's `key` bucket being laid out in the background (see layOutKeyBucket). */
  private keyBucketCatchUp: Promise<void> | undefined
  private saveTimer: NodeJS.Timeout | undefined
  startup: StoreStartup = { fromRestartState: false, rowsRead: 0, batchesReplayed: 0 }

  private constructor(
    /** The data dir's member folder, private to this process's user: the store's files live here. */
    readonly dir: string,
    private readonly file: StoreFile,
    member: MemberIdentity,
    private readonly applied: AppliedIndex,
    readonly attachments: LeaseAttachments,
  ) {
    this.clusterId = member.clusterId
    this.memberId = member.memberId
    this.raftTerm = member.raftTerm
    this.compaction = new Compaction(file, this.index, applied)
    this.keyBucketLayout = new KeyBucketLayout(() => this.compaction.removals)
  }

  /** Opens (or creates) the store in `dataDir`; `attachments` learns every key's lease, now and as writes apply. */
  static async open(dataDir: string, attachments = new LeaseAttachments()): Promise<MvccStore> {
    const dir = prepareDataDir(dataDir, STORE_FILE)
    // snapshots being sent when the process stopped
    for (const name of readdirSync(dir)) {
      if (/^snapshot-[0-9a-f]+\.mdb$/.test(name)) rmSync(join(dir, name), { force: true })
    }
    const file = await StoreFile.open(dir)
    const member = await startMember(file)
    const applied = await AppliedIndex.open(file)
    const store = new MvccStore(dir, file, member, applied, attachments)
    await store.restore()
    store.mapKeys()
    store.layOutKeyBucket()
    store.saveTimer = setInterval(() => {
      if (store.unsavedRows >= SAVE_AFTER_ROWS) void store.saveRestartState()
    }, SAVE_EVERY_MS).unref()
    return store
  }

  get compactRev(): number {
    return this.compaction.rev
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** A view of what is durable. */
  read(): ReadView {
    this.assertUsable()
    const rev = this.committedRev
    return { rev, firstRev: this.compactRev, range: (key, end, opts) => this.rangeKeys(key, end, rev, opts) }
  }

  /** Starts a write; use it synchronously and call end() before yielding to the event loop. */
  write(): WriteTxn {
    this.assertUsable()
    return new WriteTxn(this, this.currentRev)
  }

  rangeKeys(key: Buffer, end: Buffer | undefined, curRev: number, opts: RangeOptions): RangeResult {
    let rev = opts.rev
    if (rev > curRev) throw Errors.futureRev()
    if (rev <= 0) rev = curRev
    if (rev < this.compactRev) throw Errors.compacted()
    const { kvs, count } = indexRange(this, key, end, rev, opts)
    return { kvs, count, rev: curRev }
  }

  /**
   * The number of keys in [from, end) at `atRev` without visiting them: the index's count at its newest
   * revision, corrected for the keys written after `atRev`. Undefined when reading back the rows written
   * since would cost more than visiting the range's keys.
   */
  countAt(from: string, end: string, atRev: number): number | undefined {
    const now = this.index.countNow(from, end)
    const changed = this.keysWrittenAfter(atRev, Math.max(now / KEYS_PER_ROW_READ, MIN_CORRECTION_ROWS))
    if (!changed) return undefined
    let count = now
    for (const k of changed) {
      if (k < from || (end !== '' && k >= end)) continue
      count += (this.index.get(k, atRev) ? 1 : 0) - (this.index.aliveNow(k) ? 1 : 0)
    }
    return count
  }

  /** The keys of the rows after revision `atRev` (applied ones included), or undefined past `budget` durable rows. */
  private keysWrittenAfter(atRev: number, budget: number): Set<string> | undefined {
    const keys = new Set<string>()
    for (const [main, rows] of this.pending) {
      if (main <= atRev) continue
      for (const row of rows) if (row) keys.add(row.kv.key.toString('latin1'))
    }
    if (atRev >= this.committedRev) return keys
    const rows = this.rowCounts.after(atRev)
    if (rows === undefined || rows > budget) return undefined
    const range = this.file.revs.getRange({ start: encodeRevKey(atRev + 1, 0), end: encodeRevKey(this.committedRev + 1, 0) })
    for (const { value } of range) keys.add(decodeChangeKey(value).key)
    return keys
  }

  /** Durable rows of the revisions from..to, or undefined when `from` is older than the window of row counts. */
  rowsBetween(from: number, to: number): number | undefined {
    const after = this.rowCounts.after(from - 1)
    return after === undefined ? undefined : after - this.rowCounts.after(to)!
  }

  readRow(rev: Revision): StoredChange {
    // one copy of the row; its key and value are views of that copy
    return this.pending.get(rev.main)?.[rev.sub] ?? decodeChange(Buffer.from(this.durableRow(rev)))
  }

  /** A row's create revision and version (cheaper than readRow: nothing is copied). */
  readVersion(rev: Revision): { createRevision: number; version: number } {
    return this.pending.get(rev.main)?.[rev.sub]?.kv ?? decodeChangeVersion(this.durableRow(rev))
  }

  /**
   * The row in lmdb: an exact-length view of memory lmdb reuses on its next read. getBinaryFast hands back
   * its shared 16 MiB buffer with `length` set as an own property, which Node 24's subarray() and
   * Buffer.from() ignore (a 5-byte row read back 16 MiB long), so the view is cut to size here, once.
   */
  private durableRow(rev: Revision): Buffer {
    const raw = this.file.revs.getBinaryFast(encodeRevKey(rev.main, rev.sub))
    if (!raw) throw Errors.revisionMissing(rev.main, rev.sub)
    return Buffer.from(raw.buffer, raw.byteOffset, raw.length)
  }

  /** Keeps an applied row readable until it is durable. */
  stage(rev: Revision, change: StoredChange): void {
    let rows = this.pending.get(rev.main)
    if (!rows) this.pending.set(rev.main, (rows = []))
    rows[rev.sub] = change
  }

  unstage(main: number): void {
    this.pending.delete(main)
  }

  /** Another table of this store (leases). Ask again after an await: defragment replaces the handles. */
  table<V>(name: string): Database<V, Buffer> {
    return this.file.table<V>(name)
  }

  /**
   * The rows of revisions from..to (inclusive, durable ones only), in revision order: those lmdb holds,
   * then the logged ones it does not hold yet.
   */
  *history(from: number, to: number): Generator<{ rev: Revision; change: StoredChange }> {
    const last = Math.min(to, this.committedRev)
    let next = from
    for (const { key, value } of this.file.revs.getRange({ start: encodeRevKey(from, 0), end: encodeRevKey(last + 1, 0) })) {
      const rev = decodeRevKey(key)
      next = rev.main + 1
      yield { rev, change: decodeChange(value) }
    }
    for (let main = next; main <= last; main++) {
      const rows = this.pending.get(main)
      if (rows) for (let sub = 0; sub < rows.length; sub++) yield { rev: { main, sub }, change: rows[sub]! }
    }
  }

  /**
   * Logs one revision's rows (and `alongside`, other writes that must commit with them) in one batch;
   * resolves when they are durable. `applied` runs as the revision becomes readable; its rows are served
   * from memory until lmdb holds them. When the batch fails, the write is taken back (this and every
   * later one, newest first) and its revision is free again.
   */
  persist(txn: WriteTxn, alongside?: (w: FileWrites) => void, applied?: () => void): Promise<void> {
    const { rev, changes } = txn
    this.currentRev = rev
    return this.file.commit(
      (w) => {
        for (let sub = 0; sub < changes.length; sub++) w.put(REVISIONS, encodeRevKey(rev, sub), encodeChange(changes[sub]!))
        alongside?.(w)
      },
      () => {
        this.rowCounts.record(rev, changes.length)
        this.unsavedRows += changes.length
        this.putTotal += txn.putBytes
        if (rev > this.committedRev) this.committedRev = rev
        applied?.()
        for (const l of this.listeners) l(rev, changes)
      },
      (err) => {
        txn.abort()
        this.currentRev = rev - 1
        throw Errors.persistFailed(`revision ${rev}`, err)
      },
      () => {
        this.pending.delete(rev)
        if (rev > this.storedRev) this.storedRev = rev
        // the layout goes no further than what a read transaction opened now sees
        this.keyBucketLayout.committed(rev, changes)
      },
    )
  }

  /** Writes of an applied request that makes no revision, ordered with the revisions around them. */
  persistOther(writes: (w: FileWrites) => void, applied?: () => void): Promise<void> {
    let entry = 0
    return this.file.commit(
      (w) => {
        writes(w)
        entry = this.applied.stage(w)
      },
      () => {
        this.applied.commit(entry)
        applied?.()
      },
      (err) => {
        this.applied.unstage(entry)
        throw Errors.persistFailed('the request', err)
      },
    )
  }

  /** Reports each of the file's write transactions and defragments to `observer`. */
  observeFile(observer: FileObserver): void {
    this.file.observe(observer)
  }

  /** Bytes of the keys and values of every durable put since the store opened (etcd's total put size). */
  get putBytes(): number {
    return this.putTotal
  }

  /** Reports what each compaction took to `observer`. */
  observeCompaction(observer: CompactionObserver): void {
    this.compaction.observe(observer)
  }

  /** Whether a defragment is under way. */
  get defragmenting(): boolean {
    return this.defragmentation !== undefined
  }

  /** Writes issued and not yet durable. */
  get pendingWrites(): number {
    return this.file.pendingWrites
  }

  /** etcd's raft index (and applied index). */
  get appliedIndex(): number {
    return this.applied.value(this.committedRev)
  }

  /** A value of the store's own table, written with the writes around it. */
  getMeta<T>(name: string): T | undefined {
    return this.file.metaValue<T>(name)
  }

  setMeta(name: string, value: unknown): Promise<void> {
    return this.persistOther((w) => w.put(META, name, value))
  }

  /** Bytes of the backend file (etcd's dbSize); with `recent`, a figure up to RECENT_MS old. */
  fileSize(recent = false): number {
    return this.file.size(recent)
  }

  /** About the bytes of the backend file once lmdb holds every logged write (what the quota compares). */
  sizeOnceStored(recent = false): number {
    return this.file.sizeOnceStored(recent)
  }

  /** About the bytes the data dir's file system will have left once lmdb holds every logged write. */
  freeOnceStored(recent = false): number {
    return this.file.freeOnceStored(recent)
  }

  /** Bytes of the file's pages that hold data (etcd's dbSizeInUse). */
  sizeInUse(): number {
    return this.file.sizeInUse()
  }

  /** The revisions table up to `storedRev` and the other tables (name, then rows in key order): the data a hash covers. */
  dataRows(): Generator<{ table: string; key: Buffer; value: Buffer }> {
    return this.file.dataRows(this.storedRev)
  }

  /** One read transaction over the store's tables, for a snapshot taken while writes go on; call done(). */
  readTransaction(tables: readonly string[]): StoreReadTxn {
    this.assertUsable()
    return this.file.readTransaction(tables)
  }

  /**
   * Settles once every write issued so far is durable in the store file or has failed; rejects with the
   * persist error while lmdb cannot take logged writes (the log keeps them).
   */
  writesSettled(): Promise<unknown> {
    return this.file.writesSettled().catch((err: Error) => {
      throw Errors.persistFailed('the logged writes to the store file', err)
    })
  }

  /** Read transactions open (etcd's open read transactions: here, snapshots being sent). */
  get openReadTransactions(): number {
    return this.file.openReadTransactions
  }

  /**
   * etcd's defragment, after any compaction in progress (see StoreFile.defragment). A copy that fails
   * answers as etcd's does (the cause's own error, code Unknown); logged writes lmdb cannot take, as they do
   * for a hash or snapshot.
   */
  defragment(): Promise<void> {
    this.assertUsable()
    this.defragmentation ??= this.file.defragment(this.writesSettled(), () => this.compaction.idle()).finally(() => (this.defragmentation = undefined))
    return this.defragmentation
  }

  /** etcd's Compact (see Compaction.compact). */
  async compact(rev: number): Promise<{ physical: Promise<void> }> {
    this.assertUsable()
    const compacted = await this.compaction.compact(rev, this.currentRev)
    // the removal dropped the snapshot's layout of the key bucket
    compacted.physical.then(() => this.layOutKeyBucket(), noop)
    return compacted
  }

  /**
   * When no layout of the snapshot's `key` bucket is kept (after a compaction, or a start-up without
   * one), makes one in the background from the durable rows, so that the next snapshot need not.
   */
  private layOutKeyBucket(): void {
    if (this.closed || this.keyBucketCatchUp || this.keyBucketLayout.kept) return
    const txn = this.file.readTransaction([])
    const laidOut = this.keyBucketLayout.startFor()
    this.keyBucketCatchUp = this.file
      .writesSettled()
      .then(() => this.keyBucketLayout.catchUp(txn, laidOut, () => this.closed))
      // a pass that fails leaves the layout to the next snapshot
      .catch(noop)
      .finally(() => {
        txn.done()
        this.keyBucketCatchUp = undefined
        // refused because a compaction removed rows meanwhile (one still removing starts the next pass when done)
        const removals = this.compaction.removals
        if (removals !== laidOut.removals && removals % 2 === 0) this.layOutKeyBucket()
      })
  }

  /** Settles once no background layout of the snapshot's `key` bucket is under way. */
  async keyBucketLaidOut(): Promise<void> {
    while (this.keyBucketCatchUp) await this.keyBucketCatchUp
  }

  /**
   * Saves the key index, the lease attachments and the row counts as of the durable revision beside the
   * store file, so that the next start-up loads them and reads only the rows written after. Resolves
   * false when it did not: a compaction not yet recorded (the index would not match the durable rows),
   * or the file could not be written (the next start-up rebuilds the index from the rows).
   */
  saveRestartState(): Promise<boolean> {
    this.saving ??= this.saveIndex().finally(() => (this.saving = undefined))
    return this.saving
  }

  private async saveIndex(): Promise<boolean> {
    if (!this.compaction.recorded) return false
    const rev = this.committedRev
    const compactRev = this.compaction.rev
    const covered = this.unsavedRows
    try {
      const { id, bytes } = await encodeRestartState({
        rev,
        compactRev,
        keysHeld: this.index.size,
        forEachHistory: (visit) => this.historiesAt(rev, compactRev, visit),
        leases: () => this.leasesAt(rev),
        rowCounts: this.rowCounts.save(),
        // the rows up to `rev` stay as they are until a compaction records its revision
        keyBucketLayout: this.compaction.settledAt(compactRev) ? this.keyBucketLayout.savedAt(rev) : undefined,
      })
      await writeRestartState(this.dir, bytes)
      // recorded after the file is durable: a start-up trusts only the file whose id the store file names
      await this.file.writable()
      await this.file.meta.put(RESTART_STATE_KEY, id)
    } catch {
      return false
    }
    this.unsavedRows -= covered
    return true
  }

  /**
   * Visits the index's histories up to durable revision `rev`, a slice of keys per turn of the event loop
   * (writes applied meanwhile add only later revisions); rejects when a compaction changed them meanwhile.
   */
  private async historiesAt(rev: number, compactRev: number, visit: (key: string, history: SavedHistory, revisions: number) => void): Promise<void> {
    let from = this.index.forEachHistory(rev, visit, '', KEYS_SAVED_PER_TURN)
    while (from !== undefined) {
      await new Promise((resolve) => setImmediate(resolve))
      if (this.compaction.rev !== compactRev) throw new Error('compacted during the save')
      from = this.index.forEachHistory(rev, visit, from, KEYS_SAVED_PER_TURN)
    }
  }

  /** The lease of every key attached to one at durable revision `rev` (writes after it may be applied). */
  private *leasesAt(rev: number): Generator<[string, bigint]> {
    const unsettled = new Set<string>()
    for (const rows of this.pending.values()) for (const row of rows) if (row) unsettled.add(row.kv.key.toString('latin1'))
    for (const entry of this.attachments.entries()) if (!unsettled.has(entry[0])) yield entry
    // a key an applied write changed: the lease of its put at `rev`, from the durable row
    for (const key of unsettled) {
      const put = this.index.get(key, rev)
      const lease = put ? this.readRow(put).kv.lease : 0n
      if (lease !== 0n) yield [key, lease]
    }
  }

  /** Waits for in-flight writes and compaction, saves the restart state, then closes the files. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.saveTimer)
    // what lmdb cannot take stays in the log, for the next start
    await this.file.writesSettled().catch(noop)
    await this.compaction.idle()
    await this.keyBucketCatchUp
    await this.saving
    await this.saveRestartState()
    await this.file.close()
  }

  /** Fills the index's map of keys after a load, a slice per turn of the event loop. */
  private mapKeys(): void {
    if (this.closed || this.index.mapKeys(KEYS_MAPPED_PER_TURN)) return
    setImmediate(() => this.mapKeys()).unref()
  }

  private assertUsable(): void {
    if (this.closed) throw Errors.stopped()
  }

  /**
   * Loads the key index, the lease attachments and the row counts from the restart state when there is
   * one to trust, then reads the rows after it (all rows when there is none) in one pass, in revision
   * order, so each key ends attached to the lease of its newest put; then the compaction.
   */
  private async restore(): Promise<void> {
    const saved = this.loadRestartState()
    let last = saved?.rev ?? 1
    let rowsRead = 0
    for (const { key, value: row } of this.file.indexRows(saved ? saved.rev + 1 : 0)) {
      const rev = decodeRevKey(key)
      if (row.tombstone) {
        this.index.tombstone(row.key, rev)
        this.attachments.detach(row.key)
      } else {
        this.index.put(row.key, rev)
        this.attachments.attach(row.key, row.lease)
      }
      this.rowCounts.record(rev.main, 1)
      last = rev.main
      rowsRead++
    }
    this.startup = { fromRestartState: saved !== undefined, rowsRead, batchesReplayed: this.file.batchesReplayed }
    this.unsavedRows = rowsRead
    const scheduled = await this.compaction.restore(saved?.compactRev ?? -1)
    // a compaction can have removed every row up to its revision, so it bounds the current revision too
    this.currentRev = this.committedRev = this.storedRev = Math.max(last, scheduled, 1)
    if (!saved && rowsRead === 0) this.keyBucketLayout.start(this.committedRev)
    // saved as the layout of the rows up to the state's revision: still theirs unless a compaction was recorded since
    else if (saved?.keyBucketLayout && this.compaction.settledAt(saved.compactRev)) this.keyBucketLayout.start(saved.rev, saved.keyBucketLayout)
  }

  /**
   * Loads the restart state when it is the last one this store file recorded as saved, and no compaction
   * recorded since went past its revision (that one can have removed rows the state still names, among
   * those that follow it). Otherwise (or when its keys are malformed) returns undefined and loads nothing:
   * the index is rebuilt from the rows.
   */
  private loadRestartState(): RestartState | undefined {
    const state = readRestartState(this.dir)
    if (!state || state.id !== this.file.meta.get(RESTART_STATE_KEY)) return undefined
    const compacted = this.compaction.recordedRev()
    if (state.compactRev > compacted || compacted > state.rev) return undefined
    try {
      this.index.load(state.keyCount, state.addKeys)
    } catch {
      return undefined
    }
    for (const { key, lease } of state.leases) this.attachments.attach(key, lease)
    this.rowCounts.restore(state.rowCounts)
    return state
  }
}
