import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { open, type Database, type RootDatabase, type Transaction } from 'lmdb'
import type { KeyValue } from '../backend.js'
import { Errors } from '../../errors.js'
import { KeyIndex } from './key-index.js'
import { ReadPins } from './read-pins.js'
import { decodeChange, decodeChangeKey, decodeChangeVersion, encodeChange, type StoredChange } from './kv-codec.js'
import { decodeRevKey, encodeRevKey, type Revision } from './revision.js'

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

/** Told of every key write as it is applied, so lease attachments follow the keys (etcd's Attach/Detach). */
export interface LeaseAttachments {
  onPut(key: string, lease: bigint): void
  onDelete(key: string): void
  /** The lease the key is attached to now (0 when none), so a failed write can be taken back. */
  leaseOf(key: string): bigint
}

const EMPTY = Buffer.alloc(0)
const RESOLVED = Promise.resolve()
const noop = () => undefined
const COMPACT_CHUNK_ROWS = 10_000

/**
 * etcd's mvcc store on lmdb: a revisions table (row per change, keyed by (main, sub) revision) plus
 * the in-memory key index rebuilt from it at start-up.
 *
 * Two revisions matter: `currentRev` is what writes have applied (the serial apply path sees it) and
 * `committedRev` is what is durable on disk. Readers read at `committedRev`, so nobody ever sees a
 * write that a crash could take back; a write resolves once its revision is durable. Concurrent writes
 * share lmdb transactions (group commit), each committed with an fsync (`overlappingSync: false`).
 */
export class MvccStore {
  currentRev = 1
  committedRev = 1
  compactRev = -1
  private finishedCompactRev = -1
  readonly index = new KeyIndex()
  /** Rows applied but not yet durable, by main revision. */
  private readonly pending = new Map<number, StoredChange[]>()
  /** The last write issued (it may reject: wait for writesSettled()). */
  private lastWrite: Promise<unknown> = RESOLVED
  private compaction: Promise<void> = RESOLVED
  private failure: Error | undefined
  private closed = false
  private readonly listeners = new Set<CommitListener>()
  leaseAttachments: LeaseAttachments | undefined
  /** While set, writes wait for it before they reach lmdb (defragment swaps the file underneath). */
  private writesHeld: Promise<void> | undefined
  private defragmenting: Promise<void> | undefined
  /** Counts finished lmdb writes, so the file's size is looked up only when it can have changed. */
  private writesDone = 0
  private sizeSeen = { writes: -1, size: 0 }
  private readonly tables = new Map<string, Database<unknown, Buffer>>()
  private readonly readPins = new ReadPins<RootDatabase>()

  /**
   * Applied requests that made no revision (lease grants, revokes of leases without keys, alarm changes,
   * compactions, and one per start for its election): etcd's raft index counts them too. Durable ones, and
   * the last one handed to lmdb.
   */
  private otherEntries = 0
  private otherEntriesStaged = 0

  private constructor(
    private readonly dataDir: string,
    private root: RootDatabase,
    private revs: Database<Buffer, Buffer>,
    private meta: Database<unknown, string>,
    readonly clusterId: bigint,
    readonly memberId: bigint,
    /** etcd's term goes up by one at every start of a single member (each start is an election). */
    readonly raftTerm: number,
  ) {}

  static async open(dataDir: string): Promise<MvccStore> {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    // a defragment that did not finish leaves its copy behind; the old file is still whole
    rmSync(join(dataDir, DEFRAG_FILE), { force: true })
    rmSync(join(dataDir, DEFRAG_FILE + '-lock'), { force: true })
    for (const name of readdirSync(dataDir)) {
      if (/^snapshot-[0-9a-f]+\.mdb$/.test(name)) rmSync(join(dataDir, name), { force: true })
    }
    const { root, revs, meta } = openFiles(join(dataDir, STORE_FILE))
    const clusterId = await loadOrCreateId(meta, 'clusterId')
    const memberId = await loadOrCreateId(meta, 'memberId')
    // a fresh member's first election makes term 2
    const raftTerm = ((meta.get('raftTerm') as number | undefined) ?? 1) + 1
    await meta.put('raftTerm', raftTerm)
    const store = new MvccStore(dataDir, root, revs, meta, clusterId, memberId, raftTerm)
    // the election's entry
    store.otherEntries = store.otherEntriesStaged = ((meta.get(OTHER_ENTRIES) as number | undefined) ?? 0) + 1
    await meta.put(OTHER_ENTRIES, store.otherEntries)
    await store.restore()
    return store
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
    const endKey = end === undefined ? undefined : end.toString('latin1')
    const found: Revision[] = []
    this.index.range(key.toString('latin1'), endKey, rev, (k) => {
      found.push(k.rev)
    })
    if (opts.count || found.length === 0) return { kvs: [], count: found.length, rev: curRev }
    const n = opts.limit > 0 && opts.limit < found.length ? opts.limit : found.length
    const kvs = new Array<KeyValue>(n)
    for (let i = 0; i < n; i++) kvs[i] = this.readRow(found[i]!).kv
    return { kvs, count: found.length, rev: curRev }
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
    const raw = this.revs.getBinaryFast(encodeRevKey(rev.main, rev.sub))
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
    let db = this.tables.get(name)
    if (!db) this.tables.set(name, (db = this.root.openDB<V, Buffer>({ name, keyEncoding: 'binary' })))
    return db as Database<V, Buffer>
  }

  /** The rows of revisions from..to (inclusive, durable ones only), in revision order. */
  *history(from: number, to: number): Generator<{ rev: Revision; change: StoredChange }> {
    const range = this.revs.getRange({ start: encodeRevKey(from, 0), end: encodeRevKey(Math.min(to, this.committedRev) + 1, 0) })
    for (const { key, value } of range) yield { rev: decodeRevKey(key), change: decodeChange(value) }
  }

  /** Visits every key that exists now, with its lease. */
  forEachLatest(visit: (key: string, lease: bigint) => void): void {
    this.index.range('\0', '', this.currentRev, ({ key, rev }) => {
      visit(key, this.readRow(rev).kv.lease)
    })
  }

  /**
   * Writes one revision's rows (and `alongside`, other writes that must commit with them) in one lmdb
   * transaction; resolves when they are durable.
   */
  persist(rev: number, changes: StoredChange[], alongside?: () => void): Promise<void> {
    this.currentRev = rev
    const written = this.batch(() => {
      for (let sub = 0; sub < changes.length; sub++) {
        void this.revs.put(encodeRevKey(rev, sub), encodeChange(changes[sub]!))
      }
      alongside?.()
    })
    // one derived promise per write (this runs for every put): no finally/catch links besides it
    const done = written.then(
      () => {
        this.writesDone++
        this.pending.delete(rev)
        if (rev > this.committedRev) this.committedRev = rev
        for (const l of this.listeners) l(rev, changes)
      },
      (err: Error) => {
        this.writesDone++
        this.failure ??= err
        throw Errors.persistFailed(rev, err)
      },
    )
    this.lastWrite = done
    return done
  }

  /** etcd's raft index (and applied index): one entry per durable revision and per other applied request. */
  get appliedIndex(): number {
    return this.committedRev + this.otherEntries
  }

  /** Counts one applied request that makes no revision; written with `writes`. */
  private stageOtherEntry(): number {
    const entries = ++this.otherEntriesStaged
    void this.meta.put(OTHER_ENTRIES, entries)
    return entries
  }

  private commitOtherEntry(entries: number): void {
    if (entries > this.otherEntries) this.otherEntries = entries
  }

  /** Writes of an applied request that makes no revision, ordered with the revisions around them. */
  persistOther(writes: () => void): Promise<void> {
    let entries = 0
    const done = this.batch(() => {
      writes()
      entries = this.stageOtherEntry()
    }).then(
      () => {
        this.writesDone++
        this.commitOtherEntry(entries)
      },
      (err: unknown) => {
        this.writesDone++
        throw err
      },
    )
    this.lastWrite = done
    return done
  }

  /** One lmdb write transaction, after any defragment in progress; the caller counts it in writesDone. */
  private batch(writes: () => void): Promise<unknown> {
    const held = this.writesHeld
    return held ? held.then(() => this.revs.batch(writes)) : this.revs.batch(writes)
  }

  /** Settles once every write issued so far has finished, failed or not. */
  private writesSettled(): Promise<unknown> {
    return this.lastWrite.then(noop, noop)
  }

  /** A value of the store's own table, written with the writes around it. */
  getMeta<T>(name: string): T | undefined {
    return this.meta.get(name) as T | undefined
  }

  setMeta(name: string, value: unknown): Promise<void> {
    return this.persistOther(() => void this.meta.put(name, value))
  }

  /** Bytes of the backend file (etcd's dbSize); looked up again only after writes. */
  fileSize(): number {
    if (this.sizeSeen.writes !== this.writesDone) {
      this.sizeSeen = { writes: this.writesDone, size: statSync(join(this.dataDir, STORE_FILE)).size }
    }
    return this.sizeSeen.size
  }

  /** Bytes of the file's pages that hold data (etcd's dbSizeInUse): meta pages plus every table's tree. */
  sizeInUse(): number {
    const pages = (s: { treeBranchPageCount: number; treeLeafPageCount: number; overflowPages: number }) =>
      s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages
    const stats = this.root.getStats() as LmdbStats
    let used = 2 + pages(stats.root) + pages(stats.free)
    for (const db of [this.revs, this.meta, ...this.tables.values()]) used += pages(db.getStats() as LmdbStats)
    return used * stats.pageSize
  }

  /** The revisions table and the other tables (name, then rows in key order): the data a hash covers. */
  *dataRows(): Generator<{ table: string; key: Buffer; value: Buffer }> {
    const end = encodeRevKey(this.committedRev + 1, 0)
    for (const { key, value } of this.revs.getRange({ end })) yield { table: 'revisions', key, value }
    for (const table of [...this.tables.keys()].sort()) {
      const db = this.root.openDB<Buffer, Buffer>({ name: table, keyEncoding: 'binary', encoding: 'binary' })
      for (const { key, value } of db.getRange({})) yield { table, key, value }
    }
  }

  /**
   * One lmdb read transaction over the revisions, the meta table and `tables`, for a snapshot taken while
   * writes go on; call done(). The tables are opened first: lmdb refuses a table opened after the transaction.
   */
  readTransaction(tables: readonly string[]): StoreReadTxn {
    this.assertUsable()
    const opened = new Map(tables.map((name) => [name, this.table(name)]))
    const transaction = this.root.useReadTransaction()
    const unpin = this.readPins.pin(this.root)
    const done = () => {
      transaction.done()
      unpin()
    }
    return { transaction, revisions: this.revs, meta: this.meta, tables: opened, done }
  }

  /**
   * etcd's defragment: the live data is copied into a fresh file, which then replaces the store's
   * file. Writes wait from the start of the copy until the new file is in use; reads go on (from the
   * old file until the swap, which happens between two reads).
   */
  defragment(): Promise<void> {
    this.assertUsable()
    this.defragmenting ??= this.swapInCompactCopy().finally(() => (this.defragmenting = undefined))
    return this.defragmenting
  }

  private async swapInCompactCopy(): Promise<void> {
    const writesBefore = this.writesSettled()
    let release!: () => void
    this.writesHeld = new Promise<void>((resolve) => (release = resolve))
    try {
      await writesBefore
      await this.compaction.catch(() => undefined)
      const copy = join(this.dataDir, DEFRAG_FILE)
      await this.root.backup(copy, true)
      syncFile(copy)
      const old = this.root
      const files = openFiles(copy)
      this.root = files.root
      this.revs = files.revs
      this.meta = files.meta
      for (const name of this.tables.keys()) this.tables.set(name, this.root.openDB({ name, keyEncoding: 'binary' }))
      // the open environment keeps its file across the rename; lmdb tells environments apart by inode
      renameSync(copy, join(this.dataDir, STORE_FILE))
      syncFile(this.dataDir)
      // a snapshot still reading the old file keeps it open until it is done
      const readers = this.readPins.idle(old)
      if (readers) void readers.then(() => old.close())
      else await old.close()
      this.writesDone++
      renameSync(copy + '-lock', join(this.dataDir, STORE_FILE + '-lock'))
    } finally {
      this.writesHeld = undefined
      release()
    }
  }

  /**
   * etcd's Compact: from now on reads below `rev` fail. Resolves once the compaction is recorded durably;
   * `physical` resolves when the superseded rows are gone from disk too.
   */
  async compact(rev: number): Promise<{ physical: Promise<void> }> {
    this.assertUsable()
    if (rev <= this.compactRev) throw Errors.compacted()
    if (rev > this.currentRev) throw Errors.futureRev()
    if (this.writesHeld) await this.writesHeld
    this.compactRev = rev
    this.index.compact(rev)
    const recorded = this.meta.put('compactScheduled', rev)
    const entries = this.stageOtherEntry()
    const writesBefore = this.writesSettled()
    await recorded
    this.commitOtherEntry(entries)
    this.compaction = this.compaction.then(async () => {
      await writesBefore
      await this.deleteSuperseded(rev)
    })
    return { physical: this.compaction }
  }

  /** Waits for in-flight writes and compaction, then closes the files. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.writesSettled()
    await this.compaction.catch(() => undefined)
    await this.root.close()
  }

  private assertUsable(): void {
    if (this.closed) throw Errors.stopped()
    if (this.failure) throw Errors.storeFailed(this.failure)
  }

  /** Removes the rows at or below `rev` that the index no longer references. */
  private async deleteSuperseded(rev: number): Promise<void> {
    let batch: Buffer[] = []
    const flush = async () => {
      const keys = batch
      batch = []
      // not held by a defragment: it waits for this compaction before copying
      await this.revs.batch(() => {
        for (const k of keys) void this.revs.remove(k)
      })
    }
    for (const { key, value } of this.revs.getRange({ start: encodeRevKey(0, 0), end: encodeRevKey(rev + 1, 0) })) {
      const row = decodeChangeKey(value)
      if (!this.index.has(row.key, decodeRevKey(key))) batch.push(Buffer.from(key))
      if (batch.length >= COMPACT_CHUNK_ROWS) await flush()
    }
    if (batch.length > 0) await flush()
    this.finishedCompactRev = rev
    await this.meta.put('compactFinished', rev)
  }

  /** Rebuilds the key index from the revisions table and finishes an interrupted compaction. */
  private async restore(): Promise<void> {
    let last = 1
    for (const { key, value } of this.revs.getRange({})) {
      const rev = decodeRevKey(key)
      const row = decodeChangeKey(value)
      if (row.tombstone) this.index.tombstone(row.key, rev)
      else this.index.put(row.key, rev)
      last = rev.main
    }
    const scheduled = (this.meta.get('compactScheduled') as number | undefined) ?? -1
    this.finishedCompactRev = (this.meta.get('compactFinished') as number | undefined) ?? -1
    // a compaction can have removed every row up to its revision, so it bounds the current revision too
    this.currentRev = this.committedRev = Math.max(last, scheduled, 1)
    if (scheduled > 0) {
      this.compactRev = scheduled
      this.index.compact(scheduled)
      if (this.finishedCompactRev < scheduled) await this.deleteSuperseded(scheduled)
    }
  }
}

/** One write (etcd's storeTxnWrite): all its changes share revision beginRev + 1. */
export class WriteTxn implements ReadView {
  readonly changes: StoredChange[] = []
  /** per change: its key and the lease the key had before, to take the change back */
  private readonly undo: { key: string; lease: bigint }[] = []

  constructor(
    private readonly store: MvccStore,
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
   * Takes back every change of a write that failed part way (the index and lease attachments return
   * to how they were; nothing was persisted). etcd 3.4 panics instead, e.g. on a txn that deletes a key
   * and then puts it with ignore_value in a nested branch.
   */
  abort(): void {
    const leases = this.store.leaseAttachments
    for (let i = this.undo.length - 1; i >= 0; i--) {
      const { key, lease } = this.undo[i]!
      this.store.index.undo(key)
      if (leases) {
        if (lease === 0n) leases.onDelete(key)
        else leases.onPut(key, lease)
      }
    }
    this.store.unstage(this.beginRev + 1)
    this.changes.length = 0
    this.undo.length = 0
  }

  /** Commits, with `alongside` in the same lmdb transaction; resolves when durable. */
  end(alongside?: () => void): Promise<void> {
    if (this.changes.length === 0) return alongside ? this.store.persistOther(alongside) : RESOLVED
    return this.store.persist(this.beginRev + 1, this.changes, alongside)
  }

  private add(key: string, change: StoredChange): void {
    const rev = { main: this.beginRev + 1, sub: this.changes.length }
    this.store.stage(rev, change)
    const leases = this.store.leaseAttachments
    this.undo.push({ key, lease: leases?.leaseOf(key) ?? 0n })
    if (change.tombstone) {
      this.store.index.tombstone(key, rev)
      leases?.onDelete(key)
    } else {
      this.store.index.put(key, rev)
      leases?.onPut(key, change.kv.lease)
    }
    this.changes.push(change)
  }
}

/** A consistent view of every table; rows read through `transaction` only. */
export interface StoreReadTxn {
  transaction: Transaction
  revisions: Database<Buffer, Buffer>
  meta: Database<unknown, string>
  /** The tables asked for, by name. */
  tables: ReadonlyMap<string, Database<unknown, Buffer>>
  done(): void
}

export const STORE_FILE = 'store.mdb'
/** The meta entry counting applied requests without a revision (see appliedIndex). */
const OTHER_ENTRIES = 'otherEntries'
const DEFRAG_FILE = 'defrag.mdb'

interface LmdbStats {
  pageSize: number
  treeBranchPageCount: number
  treeLeafPageCount: number
  overflowPages: number
  root: LmdbStats
  free: LmdbStats
}

export function openFiles(path: string) {
  const root = open({ path, overlappingSync: false, maxDbs: 8 })
  const revs = root.openDB<Buffer, Buffer>({ name: 'revisions', keyEncoding: 'binary', encoding: 'binary' })
  const meta = root.openDB<unknown, string>({ name: 'meta' })
  return { root, revs, meta }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

async function loadOrCreateId(meta: Database<unknown, string>, name: string): Promise<bigint> {
  const saved = meta.get(name) as string | undefined
  if (saved !== undefined) return BigInt(saved)
  // etcd's IDs are random-looking uint64s; keep them nonzero so they are never omitted on the wire
  let id = randomBytes(8).readBigUInt64BE()
  if (id === 0n) id = 1n
  await meta.put(name, id.toString())
  return id
}
