/**
 * Writes a new embedded store from another store's contents (an etcd snapshot being restored): the
 * revisions table, the leases, the alarms, the auth store, the compaction state and the member and cluster IDs.
 */
import { dirname, join } from 'node:path'
import type { AuthData } from '../../auth/auth-store.js'
import { AUTH_META_KEY, toSaved } from '../../auth/saved-auth.js'
import { Worker } from 'node:worker_threads'
import { Errors } from '../../errors.js'
import { encodedLength, type StoredChange, writeChange } from './kv-codec.js'
import { prepareDataDir } from './data-dir.js'
import { freeBytes, STORE_FILE } from './store-file.js'
import { ROW_KEY_BYTES, writeRevKey } from './revision.js'
import { ImportWrites, type LastWrites, ROW_LENGTH_BYTES } from './import-writes.js'

export interface ImportedStore {
  clusterId: bigint
  memberId: bigint
  /** Every change in rising revision order (main, then sub), each revision once. */
  changes: Iterable<{ main: number; sub: number; change: StoredChange }>
  leases: Iterable<{ id: bigint; ttl: number }>
  alarms: Array<{ memberId: bigint; alarm: number }>
  /** Users, roles, the enabled flag and the auth revision. */
  auth: AuthData
  /** The compaction etcd had scheduled and the one it had finished (0: none). */
  compactScheduled: number
  compactFinished: number
}

/** Bytes of rows written at once (one lmdb transaction), and how many such may wait on the writing thread. */
const BATCH_BYTES = 4 << 20
const BATCHES_QUEUED = 2
const noop = () => undefined

/**
 * Writes the store into `dataDir` (which must be new and empty), laid out as serve keeps it, and syncs
 * it. The rows are encoded here as they are read, a few megabytes at a time; with `onThread` (for a large
 * store: a thread costs tens of milliseconds to start) lmdb writes them on a thread of its own
 * (store-import-worker), so reading and writing overlap.
 */
export async function importStore(dataDir: string, s: ImportedStore, { onThread = false } = {}): Promise<void> {
  const path = join(prepareDataDir(dataDir, STORE_FILE), STORE_FILE)
  const writer: Writer = onThread ? new ThreadWriter(path) : new LocalWriter(path)
  try {
    // each batch has its own memory, which may move to the writing thread
    const newBatch = (bytes: number) => Buffer.from(new ArrayBuffer(Math.max(BATCH_BYTES, bytes)))
    let batch = newBatch(0)
    let at = 0
    for (const { main, sub, change } of s.changes) {
      const length = encodedLength(change.kv)
      const bytes = ROW_LENGTH_BYTES + ROW_KEY_BYTES + length
      if (at + bytes > batch.length) {
        await writer.write(batch, at)
        if (onThread || bytes > batch.length) batch = newBatch(bytes)
        at = 0
      }
      batch.writeUInt32LE(length, at)
      writeRevKey(batch, main, sub, at + ROW_LENGTH_BYTES)
      writeChange(change, batch, at + ROW_LENGTH_BYTES + ROW_KEY_BYTES)
      at += bytes
    }
    if (at > 0) await writer.write(batch, at)
    const leases: LastWrites['leases'] = []
    for (const { id, ttl } of s.leases) {
      const key = Buffer.alloc(8)
      key.writeBigInt64BE(id)
      leases.push([key, ttl])
    }
    const meta: LastWrites['meta'] = [
      ['clusterId', s.clusterId.toString()],
      ['memberId', s.memberId.toString()],
      [AUTH_META_KEY, toSaved(s.auth)],
    ]
    if (s.alarms.length > 0) meta.push(['alarms', s.alarms.map((a) => [a.memberId.toString(), a.alarm])])
    // the embedded store's compactScheduled is the revision reads are refused below, as etcd's after its restart
    const compactRev = Math.max(s.compactScheduled, s.compactFinished)
    if (compactRev > 0) meta.push(['compactScheduled', compactRev])
    if (s.compactFinished > 0) meta.push(['compactFinished', s.compactFinished])
    await writer.finish({ leases, meta })
  } finally {
    await writer.stop()
  }
}

/** Where the rows go: written before write() resolves, or handed to the writing thread. */
interface Writer {
  /** The first `bytes` of `batch` (its memory is the writer's from now on). */
  write(batch: Buffer, bytes: number): Promise<void>
  /** After the rows: the last writes, then the file synced and closed. */
  finish(last: LastWrites): Promise<void>
  /** Lets go of the file (and the thread) whether or not finish() ran. */
  stop(): Promise<void>
}

/** The store file could not be written: the cause, and how full its file system is (most likely why). */
function writeFailed(path: string, cause: Error): Error {
  return Errors.restoreWriteFailed(path, cause, freeBytes(dirname(path)))
}

/** lmdb on this thread. */
class LocalWriter implements Writer {
  private readonly writes: ImportWrites
  private open = true

  constructor(private readonly path: string) {
    this.writes = new ImportWrites(path)
  }

  write(batch: Buffer, bytes: number): Promise<void> {
    return this.attempt(() => this.writes.rows(batch.subarray(0, bytes)))
  }

  async finish(last: LastWrites): Promise<void> {
    await this.attempt(() => this.writes.last(last))
    this.open = false
  }

  async stop(): Promise<void> {
    if (this.open) await this.writes.close().catch(noop)
    this.open = false
  }

  private async attempt(write: () => unknown): Promise<void> {
    try {
      await write()
    } catch (err) {
      throw writeFailed(this.path, err as Error)
    }
  }
}

/** lmdb on a thread of its own: batches handed over (at most BATCHES_QUEUED waiting), then the last writes. */
class ThreadWriter implements Writer {
  private readonly worker: Worker
  private readonly answers: Array<{ resolve: () => void; reject: (err: Error) => void }> = []
  private pending: Promise<void>[] = []
  private failure: Error | undefined

  constructor(path: string) {
    this.worker = new Worker(new URL('./store-import-worker.js', import.meta.url), { workerData: path })
    this.worker.on('message', () => this.answers.shift()?.resolve())
    const fail = (cause: Error) => {
      this.failure ??= writeFailed(path, cause)
      for (const answer of this.answers.splice(0)) answer.reject(this.failure)
    }
    this.worker.on('error', fail)
    this.worker.on('exit', (code) => fail(new Error(`its writing thread exited with code ${code}`)))
  }

  /** Moves the batch's memory to the thread; waits while BATCHES_QUEUED are already waiting. */
  async write(batch: Buffer, bytes: number): Promise<void> {
    const memory = batch.buffer as ArrayBuffer
    const written = this.ask({ rows: memory, bytes }, [memory])
    // failures are taken when awaited (here or in finish), not as unhandled rejections meanwhile
    written.catch(noop)
    this.pending.push(written)
    if (this.pending.length > BATCHES_QUEUED) await this.pending.shift()
  }

  async finish(last: LastWrites): Promise<void> {
    await Promise.all(this.pending.splice(0))
    await this.ask({ last })
  }

  /** Ends the thread (at once when it failed or was not finished). */
  async stop(): Promise<void> {
    await Promise.allSettled(this.pending)
    await this.worker.terminate()
  }

  private ask(message: unknown, transfer: ArrayBuffer[] = []): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    const answered = new Promise<void>((resolve, reject) => this.answers.push({ resolve, reject }))
    this.worker.postMessage(message, transfer)
    return answered
  }
}
