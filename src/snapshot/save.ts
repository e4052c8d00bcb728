/**
 * Writes etcd's Snapshot stream to a file as etcdctl's `snapshot save` does: every blob, the trailing
 * sha256 included, into a temp file beside the target; the sha256 checked; the data fsync'd (flushed as it
 * comes, so little is left for the last fsync); then renamed into place and the directory fsync'd, so the
 * target name only ever names a whole snapshot.
 */
import { createHash } from 'node:crypto'
import { renameSync, rmSync } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { SnapshotChunk } from '../backend/backend.js'
import { Errors } from '../errors.js'
import { SHA256_TRAILER_BYTES } from './bolt-format.js'
import { syncPath } from '../sync-path.js'

export interface SaveOptions {
  /** The temp name to write to (default `<file>.part`); it is removed when the save fails. */
  tempFile?: string
  /** Bytes received so far and the total the stream announces. */
  onProgress?: (done: number, total: number) => void
}

/** Bytes of blobs written to the file together. */
const WRITE_BYTES = 1 << 20
/** Bytes written after which the data so far is flushed to disk while the stream goes on. */
const SYNC_BEHIND_BYTES = 32 << 20

/**
 * Flushes a file's data in the background as it is written (one fdatasync at a time, each started once
 * SYNC_BEHIND_BYTES more are written), so the disk works during the transfer and the final fsync finds
 * little left to write; a failed flush fails the save at `settled`.
 */
function syncBehind(out: FileHandle) {
  let unsynced = 0
  let running: Promise<void> | undefined
  let failure: unknown
  return {
    wrote(bytes: number): void {
      unsynced += bytes
      if (running || unsynced < SYNC_BEHIND_BYTES) return
      unsynced = 0
      running = out.datasync().then(
        () => {
          running = undefined
        },
        (err: unknown) => {
          failure ??= err
        },
      )
    },
    async settled(): Promise<void> {
      await running
      if (failure) throw failure
    },
  }
}

/** Saves the stream into `file`; resolves to the db's size in bytes (the trailer not counted). */
export async function saveSnapshotStream(chunks: AsyncIterable<SnapshotChunk>, file: string, opts: SaveOptions = {}): Promise<number> {
  const temp = opts.tempFile ?? `${file}.part`
  const out = await open(temp, 'w', 0o600)
  const sha = createHash('sha256')
  const flushing = syncBehind(out)
  let written = 0
  let pending: SnapshotChunk | undefined
  // blobs are written a batch at a time: one write per blob would cost more than the copy
  let batch: SnapshotChunk[] = []
  let batchBytes = 0
  const writeBatch = async () => {
    if (batch.length > 0) await out.writev(batch.map((c) => c.blob))
    for (const c of batch) c.release?.()
    flushing.wrote(batchBytes)
    batch = []
    batchBytes = 0
  }
  try {
    for await (const chunk of chunks) {
      // each blob but the last is data; the last is the sha256 of all data
      if (pending) {
        sha.update(pending.blob)
        batch.push(pending)
        batchBytes += pending.blob.length
        written += pending.blob.length
        if (batchBytes >= WRITE_BYTES) await writeBatch()
      }
      pending = chunk
      opts.onProgress?.(written + pending.blob.length, written + pending.blob.length + chunk.remainingBytes)
    }
    await writeBatch()
    const trailer = pending?.blob
    if (!trailer || trailer.length !== SHA256_TRAILER_BYTES) throw Errors.snapshotInvalid('the stream ended without its sha256 message')
    if (!sha.digest().equals(trailer)) throw Errors.snapshotInvalid('sha256 mismatch: the stream was damaged')
    await out.write(trailer)
    await flushing.settled()
    await out.sync()
    await out.close()
    renameSync(temp, file)
    syncPath(dirname(file))
    return written
  } catch (err) {
    await flushing.settled().catch(() => undefined)
    await out.close().catch(() => undefined)
    rmSync(temp, { force: true })
    throw err
  }
}
