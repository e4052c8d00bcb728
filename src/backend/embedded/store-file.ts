/** The store's lmdb file (etcd's backend package) behind its write-ahead log: named tables, writes that resolve once logged and flushed, sizes, read transactions for snapshots and the defragment swap. */
import { chmodSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { asBinary, open, type Binary, type Database, type Key, type RootDatabase, type RootDatabaseOptionsWithPath, type Transaction } from 'lmdb'
import { syncPath } from '../../sync-path.js'
import { PRIVATE_FILE_MODE } from './data-dir.js'
import { decodeIndexedChange, type IndexedChange } from './kv-codec.js'
import { decodeWrites, type FileWrites, type LoggedWrite, META, REVISIONS, WriteRecorder } from './logged-writes.js'
import { ReadPins } from './read-pins.js'
import { encodeRevKey, type Revision } from './revision.js'
import { readU64 } from './u64.js'
import { type UnstoredBatch, UnstoredBatches } from './unstored-batches.js'
import { frameRecord, WriteAheadLog } from './write-ahead-log.js'

export const STORE_FILE = 'store.mdb'
const DEFRAG_FILE = 'defrag.mdb'

/** Removes what a defragment's copy left in `dir`: the copy and its lock file. */
function removeDefragCopy(dir: string): void {
  rmSync(join(dir, DEFRAG_FILE), { force: true })
  rmSync(join(dir, DEFRAG_FILE + '-lock'), { force: true })
}
const noop = () => undefined
const readOnly = () => {
  throw new Error('a read-only view of the revisions table')
}

let lastShared: unknown

/**
 * Marks handled the promise an lmdb-js write returns inside an lmdb transaction of logged batches. The
 * writes of a transaction share one, rejected when the transaction fails, which the transaction's own
 * promise reports already: unhandled, it would end the process.
 */
function queued(write: Promise<unknown>): void {
  if (write === lastShared) return
  lastShared = write
  write.catch(noop)
}

interface QueuedWrite {
  writes: (w: FileWrites) => void
  done: () => unknown
  failed: (err: Error) => never
  stored: (() => void) | undefined
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

function runSettled(w: QueuedWrite, settle: () => unknown): void {
  try {
    w.resolve(settle())
  } catch (err) {
    w.reject(err)
  }
}

/**
 * lmdb-js rejects a failed transaction's writes with "Commit failed" and the reason (EIO, ENOSPC, ...) on
 * a separate promise, which would end the process as an unhandled rejection: the reason is taken from it.
 */
async function commitCause(err: Error): Promise<Error> {
  const cause = (err as Error & { commitError?: Promise<unknown> }).commitError
  if (!cause) return err
  // lmdb-js rejects it in the same callback; the timer only guards against a version that does not
  let timer: NodeJS.Timeout | undefined
  const reason = await Promise.race([
    cause.then(() => err, (reason: unknown) => reason),
    new Promise<Error>((resolve) => (timer = setTimeout(resolve, 1000, err))),
  ])
  clearTimeout(timer)
  return reason instanceof Error ? reason : err
}

/** What a store's metrics learn of its file: log flushes, commits and defragments. */
export interface FileObserver {
  /** A batch's log record took `seconds` to flush. */
  logged(seconds: number): void
  /** An lmdb transaction of logged batches became durable `seconds` after it was started (its fsync included). */
  committed(seconds: number): void
  /** A transaction failed: these writes are taken back. */
  failed(writes: number): void
  /** A defragment took `seconds`, from its start to the new file in use. */
  defragmented(seconds: number): void
}

interface LmdbStats {
  pageSize: number
  treeBranchPageCount: number
  treeLeafPageCount: number
  overflowPages: number
  root: LmdbStats
  free: LmdbStats
}

/** A batch of writes logged (acknowledged) and not yet in lmdb. */
interface LoggedBatch extends UnstoredBatch {
  writes: LoggedWrite[]
  queued: QueuedWrite[]
}

/**
 * The meta table's record of the last logged batch lmdb holds: its number as 8 raw bytes (a native
 * double). At start-up the log's records after it are written to lmdb again.
 */
const LAST_BATCH_KEY = 'lastBatch'
/** How old, in milliseconds, a file size or free-space figure asked for as `recent` may be. */
const RECENT_MS = 50

/**
 * A figure that only writes change (and time, past `maxAgeMs`): looked up again once writes finished since
 * it was, or, asked for as `recent`, once it is also RECENT_MS old.
 */
class FigureAfterWrites {
  private writes = -1
  private at = 0
  private value = 0

  constructor(
    private readonly lookUp: () => number,
    private readonly maxAgeMs = Infinity,
  ) {}

  get(writesDone: number, recent: boolean): number {
    if (this.writes === writesDone && this.maxAgeMs === Infinity) return this.value
    const now = performance.now()
    const stale = this.writes !== writesDone && !(recent && now - this.at < RECENT_MS)
    if (stale || now - this.at >= this.maxAgeMs) {
      this.writes = writesDone
      this.at = now
      this.value = this.lookUp()
    }
    return this.value
  }
}

function batchMark(seq: number): Binary {
  return asBinary(new Uint8Array(new Float64Array([seq]).buffer))
}

/**
 * Holds the lmdb environment of a data dir. Writes go through commit(), which orders them after a
 * defragment in progress; the table handles change when a defragment swaps the file, so callers ask
 * for them at each use.
 */
export class StoreFile {
  /** The last write issued (it may reject: wait for writesSettled()). */
  private lastWrite: Promise<unknown> = Promise.resolve()
  /** Writes waiting for the next batch. */
  private queued: QueuedWrite[] = []
  /** Whether the next batch's start is due on the next turn of the event loop. */
  private starting = false
  /** The batch being logged. */
  private logging: QueuedWrite[] | undefined
  /** The number of the last batch logged. */
  private batchSeq: number
  /** Logged batches lmdb does not hold yet. */
  private readonly unstored: UnstoredBatches<LoggedBatch>
  /** Values of the meta table logged and not yet in lmdb, with their batch. */
  private readonly unstoredMeta = new Map<string, { seq: number; value: unknown }>()
  private readonly recorder = new WriteRecorder()
  /** Batches of the log written to the file at open (those it did not hold yet). */
  batchesReplayed = 0
  private observer: FileObserver | undefined
  /** While set, a defragment is under way (it swaps the file underneath): writes that bypass commit() wait for it. */
  private defragmenting: Promise<void> | undefined
  /** While set, the writes issued during a defragment: they wait for the new file, in issue order. */
  private heldWrites: QueuedWrite[] | undefined
  /** Counts finished log batches and lmdb transactions, so sizes and free space are looked up only when they can have changed. */
  private writesDone = 0
  private readonly sizeSeen = new FigureAfterWrites(() => statSync(join(this.dir, STORE_FILE)).size)
  /** Other files fill a disk too: looked up at least every second. */
  private readonly freeSeen = new FigureAfterWrites(() => freeBytes(this.dir), 1000)
  /** The file's size and the disk's free bytes as lmdb's transaction in progress began (what its batches grow from). */
  private atTake = { size: 0, free: 0 }
  private readonly tables = new Map<string, Database<unknown, Buffer>>()
  private readonly readPins = new ReadPins<RootDatabase>()

  private constructor(
    private readonly dir: string,
    private root: RootDatabase,
    /** The revisions table: key = encoded revision, value = an encoded change. */
    public revs: Database<Buffer, Buffer>,
    /** The store's own small values (ids, term, compaction marks, counters, alarms): read them with metaValue(). */
    public meta: Database<unknown, string>,
    private readonly log: WriteAheadLog,
    lastBatch: number,
  ) {
    this.batchSeq = lastBatch
    this.unstored = new UnstoredBatches<LoggedBatch>(lastBatch, {
      take: (batches) => {
        this.atTake = { size: this.size(), free: this.diskFree() }
        return this.commitToLmdb(batches.map((b) => b.writes), batches.at(-1)!.seq)
      },
      taken: (batches) => this.taken(batches),
      // lmdb made the transaction visible, then could not sync it: what the file holds is no longer known,
      // so no write is taken until the store is opened again (the log still holds every batch)
      failed: (batches) => {
        this.writesDone++
        return this.lastBatchCommitted() >= batches.at(-1)!.seq
      },
    })
  }

  /**
   * Opens the file in `dir` (the data dir's member folder) and writes to it the batches its log holds
   * and it does not (those logged before a crash); resolves once they are durable in it.
   */
  static async open(dir: string): Promise<StoreFile> {
    // a defragment that did not finish leaves its copy behind; the old file is still whole
    removeDefragCopy(dir)
    const { root, revs, meta } = openFiles(join(dir, STORE_FILE))
    try {
      const { log, records } = WriteAheadLog.open(dir, lastBatchIn(meta))
      // the file holds them all once they are written to it below
      const file = new StoreFile(dir, root, revs, meta, log, records.at(-1)?.seq ?? lastBatchIn(meta))
      if (records.length > 0) await file.commitToLmdb(records.map((r) => decodeWrites(r.body)), records.at(-1)!.seq)
      file.batchesReplayed = records.length
      log.start()
      return file
    } catch (err) {
      await root.close()
      throw err
    }
  }

  /** Another table (leases). */
  table<V>(name: string): Database<V, Buffer> {
    let db = this.tables.get(name)
    if (!db) this.tables.set(name, (db = this.root.openDB<V, Buffer>({ name, keyEncoding: 'binary' })))
    return db as Database<V, Buffer>
  }

  /**
   * Logs `writes` in a coming batch, after any defragment in progress (group commit: a batch holds every
   * write issued while the one before it was being logged). `done` runs once its batch's log record is
   * flushed, in issue order; `stored` once lmdb holds it too (until then its rows are the caller's to
   * serve). A batch that fails fails every write issued behind it too (they were applied on top of it):
   * their `failed` runs newest first, so each can take back its own changes in the reverse order they
   * were applied. While lmdb cannot take logged batches, a write fails with the reason.
   */
  commit<T>(writes: (w: FileWrites) => void, done: () => T, failed: (err: Error) => never, stored?: () => void): Promise<T> {
    const settled = new Promise<T>((resolve, reject) => {
      const w: QueuedWrite = { writes, done, failed, stored, resolve: resolve as (value: unknown) => void, reject }
      const broken = this.unstored.broken
      if (broken) return runSettled(w, () => failed(broken))
      if (this.heldWrites) return void this.heldWrites.push(w)
      this.queued.push(w)
      this.scheduleBatch()
    })
    this.lastWrite = settled
    return settled
  }

  /** Reports each log flush, lmdb transaction and defragment to `observer` from now on. */
  observe(observer: FileObserver): void {
    this.observer = observer
  }

  /** Writes issued and not yet logged (or failed). */
  get pendingWrites(): number {
    return this.queued.length + (this.heldWrites?.length ?? 0) + (this.logging?.length ?? 0)
  }

  /** A value of the meta table, as the last logged write left it. */
  metaValue<T>(name: string): T | undefined {
    const logged = this.unstoredMeta.get(name)
    return (logged ? logged.value : this.meta.get(name)) as T | undefined
  }

  /** Starts a batch on the next turn of the event loop (a write waits for those issued in the same turn). */
  private scheduleBatch(): void {
    if (!this.starting && !this.logging) {
      this.starting = true
      setImmediate(() => this.startBatch())
    }
  }

  private startBatch(): void {
    this.starting = false
    if (this.queued.length === 0 || this.logging) return
    const batch = (this.logging = this.queued)
    this.queued = []
    this.logBatch(batch).then(
      () => this.logged(batch, null),
      (err: Error) => this.logged(batch, err),
    )
  }

  private async logBatch(batch: QueuedWrite[]): Promise<void> {
    // lmdb takes what waits before more is logged: after a failure of its own (the write fails if it still
    // cannot), or when too much waits
    if (this.unstored.mustCatchUp) await this.stored()
    const started = process.hrtime.bigint()
    const seq = this.batchSeq + 1
    let recorded: ReturnType<WriteRecorder['take']>
    try {
      for (const w of batch) w.writes(this.recorder)
    } finally {
      // nothing of a batch that failed here is left for the next
      recorded = this.recorder.take()
    }
    const { writes, record } = recorded
    await this.log.append(seq, frameRecord(record, seq))
    this.observer?.logged(Number(process.hrtime.bigint() - started) / 1e9)
    this.batchSeq = seq
    for (const write of writes) if (write.table === META) this.unstoredMeta.set(write.key as string, { seq, value: write.value })
    this.unstored.add({ seq, writes, queued: batch, bytes: record.length })
  }

  /** Settles the batch being logged: acknowledged (then on to lmdb) or failed. */
  private logged(batch: QueuedWrite[], err: Error | null): void {
    this.logging = undefined
    this.writesDone++
    if (err) this.fail(batch, err)
    else {
      for (const w of batch) runSettled(w, w.done)
    }
    // writes issued while it was logged make the next one
    if (this.queued.length > 0 && !this.starting) this.startBatch()
  }

  /** Fails `batch`, the writes queued behind it and those held by a defragment (applied on top of it). */
  private fail(batch: QueuedWrite[], err: Error): void {
    const failing = batch
    failing.push(...this.queued)
    this.queued = []
    if (this.heldWrites) failing.push(...this.heldWrites.splice(0))
    this.observer?.failed(failing.length)
    for (let i = failing.length - 1; i >= 0; i--) runSettled(failing[i]!, () => failing[i]!.failed(err))
  }

  /** lmdb holds `batches` now: their rows and meta values need no longer be served from memory, nor their log segments kept. */
  private taken(batches: LoggedBatch[]): void {
    this.writesDone++
    for (const b of batches) for (const w of b.queued) w.stored?.()
    const last = batches.at(-1)!.seq
    for (const [name, logged] of this.unstoredMeta) if (logged.seq <= last) this.unstoredMeta.delete(name)
    this.log.release(last)
  }

  /** Writes `batches` and the record of `last` in one lmdb transaction; resolves once it is durable. */
  private async commitToLmdb(batches: LoggedWrite[][], last: number): Promise<void> {
    const started = process.hrtime.bigint()
    const meta = this.meta
    const committed = meta.batch(() => {
      for (const writes of batches) {
        for (const write of writes) {
          const table: Database<unknown, Key> = write.table === REVISIONS ? this.revs : write.table === META ? meta : this.table(write.table)
          queued(write.removed ? table.remove(write.key) : table.put(write.key, write.value))
        }
      }
      queued(meta.put(LAST_BATCH_KEY, batchMark(last)))
    }) as Promise<unknown> & { flushed?: Promise<unknown> }
    try {
      await committed
      // lmdb makes a transaction visible before it is synced
      await committed.flushed
    } catch (err) {
      throw await commitCause(err as Error)
    }
    this.observer?.committed(Number(process.hrtime.bigint() - started) / 1e9)
  }

  /**
   * Resolves once lmdb holds every batch logged so far; rejects with the reason when lmdb fails to take
   * them (or has failed and fails again).
   */
  private stored(): Promise<void> {
    return this.unstored.held(this.batchSeq)
  }

  /** The number of the last batch the file holds (0: none yet). */
  private lastBatchCommitted(): number {
    this.root.resetReadTxn()
    return lastBatchIn(this.meta)
  }

  /** Waits for a defragment in progress (writes that bypass commit(), such as compaction's, must). */
  async writable(): Promise<void> {
    if (this.defragmenting) await this.defragmenting
  }

  /**
   * Settles once every write issued so far has finished, failed or not, and lmdb holds those logged;
   * rejects when lmdb cannot take them (the log keeps them).
   */
  writesSettled(): Promise<unknown> {
    return this.lastWrite.then(noop, noop).then(() => this.stored())
  }

  /**
   * Bytes of the file (etcd's dbSize); looked up again after writes, or with `recent`, once the figure is
   * RECENT_MS old (a figure per write transaction cost the write path ~3 % of its rate).
   */
  size(recent = false): number {
    return this.sizeSeen.get(this.writesDone, recent)
  }

  /**
   * Bytes the file system has left for unprivileged writers; looked up again after writes (with `recent`,
   * once the figure is RECENT_MS old) and at least every second (other files fill a disk too).
   */
  private diskFree(recent = false): number {
    return this.freeSeen.get(this.writesDone, recent)
  }

  /**
   * About the bytes the file will have once lmdb holds every logged write (what the quota compares): its
   * size grown by the records lmdb has yet to take. Those of the transaction in progress may be in the file
   * already, so they count only from the size it began at, never twice.
   */
  sizeOnceStored(recent = false): number {
    const { taking, waitingToTake } = this.unstored
    const size = this.size(recent)
    return (taking > 0 ? Math.max(size, this.atTake.size + taking) : size) + waitingToTake
  }

  /** About the bytes the file system will have left once lmdb holds every logged write (as sizeOnceStored). */
  freeOnceStored(recent = false): number {
    const { taking, waitingToTake } = this.unstored
    const free = this.diskFree(recent)
    return (taking > 0 ? Math.min(free, this.atTake.free - taking) : free) - waitingToTake
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

  /**
   * The rows of the revisions table from revision `from` on, in revision order, as the key index needs
   * them. lmdb hands a decoder its shared read buffer instead of a copy of each value, which halves the
   * time of a start-up scan.
   */
  indexRows(from: number): Iterable<{ key: Buffer; value: IndexedChange }> {
    // lmdb-js takes a custom encoder (its types do not declare it) and lets it read in place
    const options = { name: 'revisions', keyEncoding: 'binary' as const, encoder: { encode: readOnly, decode: decodeIndexedChange } }
    return this.root.openDB<IndexedChange, Buffer>(options).getRange({ start: encodeRevKey(from, 0) })
  }

  /** The revisions table up to `lastRev` and the other tables (name, then rows in key order). */
  *dataRows(lastRev: number): Generator<{ table: string; key: Buffer; value: Buffer }> {
    const end = encodeRevKey(lastRev + 1, 0)
    for (const { key, value } of this.revs.getRange({ end })) yield { table: 'revisions', key, value }
    for (const table of [...this.tables.keys()].sort()) {
      const db = this.root.openDB<Buffer, Buffer>({ name: table, keyEncoding: 'binary', encoding: 'binary' })
      for (const { key, value } of db.getRange({})) yield { table, key, value }
    }
  }

  /**
   * One lmdb read transaction over the revisions, the meta table and `tables`, for a snapshot taken while
   * writes go on; call done(). The tables are opened first: lmdb refuses a table opened after the transaction.
   * What lmdb holds is durable (logged first); the writes acknowledged so far are all in it once
   * writesSettled() resolves, so one that must see them is opened after that.
   */
  readTransaction(tables: readonly string[]): StoreReadTxn {
    const opened = new Map(tables.map((name) => [name, this.table(name)]))
    // lmdb-js takes a custom encoder (its types do not declare it) and hands its decoder the shared read
    // buffer (or, for a large row, a view of the map), which this one returns as it is
    const inPlace = { encode: readOnly, decode: (b: Uint8Array) => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)) }
    const rowsOptions = { name: 'revisions', keyEncoder: revisionInPlace(), encoder: inPlace }
    const rows = this.root.openDB<Buffer, Key>(rowsOptions)
    const transaction = this.root.useReadTransaction()
    // from a given revision (lmdb-js would start a custom key encoding's range at its own first key); its
    // types take keys to be its own kinds, these are what revisionInPlace() reads
    const revisionRows = (from = 0) =>
      rows.getRange({ transaction, start: encodeRevKey(from, 0) }) as Iterable<{ key: unknown; value: Buffer }> as Iterable<{ key: Revision; value: Buffer }>
    const unpin = this.readPins.pin(this.root)
    const done = () => {
      transaction.done()
      unpin()
    }
    return { transaction, revisions: this.revs, revisionRows, meta: this.meta, tables: opened, done }
  }

  /** Read transactions open (snapshots being sent). */
  get openReadTransactions(): number {
    return this.readPins.count
  }

  /** A compacted, consistent copy of the whole file at `path` (writes go on meanwhile). */
  private async copyTo(path: string): Promise<void> {
    await this.root.backup(path, true)
    // lmdb creates copies 0666 less the umask
    chmodSync(path, PRIVATE_FILE_MODE)
  }

  /**
   * etcd's defragment: the live data is copied into a fresh file, which then replaces this one. The
   * writes issued before it are made durable in the old file first (`writesBefore`: writesSettled(), taken
   * as it is called), those issued during it wait until the new file is in use (after `quiet`, which waits
   * for other writers such as compaction); reads go on from the old file until the swap.
   */
  async defragment(writesBefore: Promise<unknown>, quiet: () => Promise<void>): Promise<void> {
    const started = process.hrtime.bigint()
    let release!: () => void
    this.defragmenting = new Promise<void>((resolve) => (release = resolve))
    const held: QueuedWrite[] = []
    this.heldWrites = held
    try {
      await writesBefore
      await quiet()
      const copy = join(this.dir, DEFRAG_FILE)
      try {
        await this.copyTo(copy)
        syncPath(copy)
      } catch (err) {
        // a copy that failed part way (a full disk) gives its space back, and the next defragment can begin
        removeDefragCopy(this.dir)
        throw err
      }
      const old = this.root
      const files = openFiles(copy)
      this.root = files.root
      this.revs = files.revs
      this.meta = files.meta
      for (const name of this.tables.keys()) this.tables.set(name, this.root.openDB({ name, keyEncoding: 'binary' }))
      // the open environment keeps its file across the rename; lmdb tells environments apart by inode
      renameSync(copy, join(this.dir, STORE_FILE))
      syncPath(this.dir)
      // a snapshot still reading the old file keeps it open until it is done
      const readers = this.readPins.idle(old)
      if (readers) void readers.then(() => old.close())
      else await old.close()
      this.writesDone++
      renameSync(copy + '-lock', join(this.dir, STORE_FILE + '-lock'))
      this.observer?.defragmented(Number(process.hrtime.bigint() - started) / 1e9)
    } finally {
      this.heldWrites = undefined
      this.defragmenting = undefined
      release()
      // in the order they were issued, into the new file (none left when a failure took them back)
      this.queued.push(...held)
      if (held.length > 0) this.scheduleBatch()
    }
  }

  /** Closes the files once lmdb holds what was logged (what it cannot take stays in the log for the next start). */
  async close(): Promise<void> {
    await this.stored().catch(noop)
    this.unstored.close()
    await this.log.close()
    await this.root.close()
  }
}

/** A consistent view of every table; rows read through `transaction` only. */
export interface StoreReadTxn {
  transaction: Transaction
  revisions: Database<Buffer, Buffer>
  /**
   * The revisions table's rows in order, read in place: each value is a view of memory lmdb reuses for
   * the next row, and each key one Revision object rewritten for the next row, so both must be used
   * before the iterator moves on (a copy of each row halves the speed of a snapshot). From revision
   * `from` (0: all).
   */
  revisionRows(from?: number): Iterable<{ key: Revision; value: Buffer }>
  meta: Database<unknown, string>
  /** The tables asked for, by name. */
  tables: ReadonlyMap<string, Database<unknown, Buffer>>
  done(): void
}

export function openFiles(path: string) {
  // lmdb-js hands permissionsMode to mdb_env_open (default 0664); its types do not declare it.
  // commit() groups writes itself; lmdb-js's own grouping per event-loop turn would add a transaction
  // promise of its own that nobody can handle when the transaction fails. With overlapping sync a
  // transaction commits without holding lmdb's write lock through its fsync (the next one is written
  // meanwhile); its write's `flushed` promise says when it is durable.
  const options: RootDatabaseOptionsWithPath & { permissionsMode: number } = {
    path,
    overlappingSync: true,
    separateFlushed: true,
    eventTurnBatching: false,
    maxDbs: 8,
    permissionsMode: PRIVATE_FILE_MODE,
  }
  const root = open(options)
  const revs = root.openDB<Buffer, Buffer>({ name: 'revisions', keyEncoding: 'binary', encoding: 'binary' })
  const meta = root.openDB<unknown, string>({ name: 'meta' })
  return { root, revs, meta }
}

/**
 * lmdb-js's key handling for revision keys read as numbers into one object, rewritten for every row it
 * reads (a Buffer for each row's key would be most of a scan's garbage). Keys it writes (where a range
 * starts) are bytes.
 */
function revisionInPlace() {
  const rev = { main: 0, sub: 0 }
  return {
    writeKey(key: Uint8Array, target: Uint8Array, start: number): number {
      target.set(key, start)
      return start + key.length
    },
    readKey(b: Buffer, start: number): Revision {
      rev.main = readU64(b, start)
      rev.sub = readU64(b, start + 8)
      return rev
    },
  }
}

/** The number of the last logged batch `meta`'s file holds (0: none). */
function lastBatchIn(meta: Database<unknown, string>): number {
  const mark = meta.getBinary(LAST_BATCH_KEY)
  return mark ? new Float64Array(mark.buffer.slice(mark.byteOffset, mark.byteOffset + 8))[0]! : 0
}

/** Bytes the file system holding `dir` has left for unprivileged writers. */
export function freeBytes(dir: string): number {
  const fs = statfsSync(dir)
  return fs.bavail * fs.bsize
}

