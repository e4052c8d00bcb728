/**
 * Writes a new embedded store from another store's contents (an etcd snapshot being restored): the
 * revisions table, the leases, the alarms, the auth store, the compaction state and the member and cluster IDs.
 */
import { statfsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { AuthData } from '../../auth/auth-store.js'
import { AUTH_META_KEY, toSaved } from '../../auth/saved-auth.js'
import { Worker } from 'node:worker_threads'
import { Errors } from '../../errors.js'
import { encodedLength, type StoredChange, writeChange } from './kv-codec.js'
import { prepareDataDir } from './data-dir.js'
import { STORE_FILE } from './store-file.js'
import { ROW_KEY_BYTES, writeRevKey } from './revision.js'
import type { LastWrites } from './store-import-worker.js'

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

/** Bytes of rows handed to the writing thread at once (one lmdb transaction), and how many such may wait there. */
const BATCH_BYTES = 4 << 20
const BATCHES_QUEUED = 2
const ROW_LENGTH_BYTES = 4
const noop = () => undefined

/**
 * Writes the store into `dataDir` (which must be new and empty), laid out as serve keeps it, and syncs
 * it. The rows are encoded here as they are read and written by lmdb on a thread of its own
 * (store-import-worker), a few megabytes at a time, so reading and writing overlap.
 */
export async function importStore(dataDir: string, s: ImportedStore): Promise<void> {
  const writer = new ImportWriter(join(prepareDataDir(dataDir, STORE_FILE), STORE_FILE))
  try {
    // each batch has its own memory, which moves to the writing thread
    const newBatch = (bytes: number) => Buffer.from(new ArrayBuffer(Math.max(BATCH_BYTES, bytes)))
    let batch = newBatch(0)
    let at = 0
    for (const { main, sub, change } of s.changes) {
      const length = encodedLength(change.kv)
      const bytes = ROW_LENGTH_BYTES + ROW_KEY_BYTES + length
      if (at + bytes > batch.length) {
        await writer.write(batch, at)
        batch = newBatch(bytes)
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

/** Bytes the file system holding `dir` has left for unprivileged writers. */
function freeBytes(dir: string): number {
  const fs = statfsSync(dir)
  return fs.bavail * fs.bsize
}

/** The writing thread: batches of rows handed over (at most BATCHES_QUEUED waiting), then the last writes. */
class ImportWriter {
  private readonly worker: Worker
  private readonly answers: Array<{ resolve: () => void; reject: (err: Error) => void }> = []
  private pending: Promise<void>[] = []
  private failure: Error | undefined

  constructor(path: string) {
    this.worker = new Worker(new URL('./store-import-worker.js', import.meta.url), { workerData: path })
    this.worker.on('message', () => this.answers.shift()?.resolve())
    const fail = (cause: Error) => {
      this.failure ??= Errors.restoreWriteFailed(path, cause, freeBytes(dirname(path)))
      for (const answer of this.answers.splice(0)) answer.reject(this.failure)
    }
    this.worker.on('error', fail)
    this.worker.on('exit', (code) => fail(new Error(`its writing thread exited with code ${code}`)))
  }

  /**
   * Hands over the first `bytes` of `batch`, a buffer of its own memory, which moves to the thread; waits
   * while BATCHES_QUEUED are already waiting.
   */
  async write(batch: Buffer, bytes: number): Promise<void> {
    const memory = batch.buffer as ArrayBuffer
    const written = this.ask({ rows: memory, bytes }, [memory])
    // failures are taken when awaited (here or in finish), not as unhandled rejections meanwhile
    written.catch(noop)
    this.pending.push(written)
    if (this.pending.length > BATCHES_QUEUED) await this.pending.shift()
  }

  /** Waits for the rows handed over, then has the last writes made and the file synced and closed. */
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
