/**
 * One backup: snapshot from the source → temp file, fsync'd, renamed to its `snapshot-YYYYMMDD-HHMMSS.db`
 * name → verified → kept in each destination (the directory: its sidecar; the bucket: uploaded, read back,
 * its record object) → retention in each destination that has it. The snapshot is written in the directory,
 * or, with no directory or one that failed, in a staging directory for the bucket alone: one destination
 * failing never keeps the backup from the other, and a destination that failed deletes nothing. A snapshot
 * that fails verification is removed and counts as a failure, kept nowhere.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Errors } from '../errors.js'
import { saveSnapshotStream } from '../snapshot/save.js'
import { backupName, type BackupRecord, makeStagingDir, releaseStagingDir, removeStaleTemps, tempName } from './backup-files.js'
import { type BackupStore, dirStore, retain } from './backup-store.js'
import type { FailureReason } from './metrics.js'
import type { RetentionPolicy } from './retention.js'
import type { S3Store } from './s3-store.js'
import type { SnapshotSource } from './sources.js'
import { verifyOffThread } from './verify-off-thread.js'
import { verifyByRestore } from './verify-restore.js'

export interface BackupOptions {
  source: SnapshotSource
  /** The backup directory; with `s3`, either or both. */
  dir?: string
  s3?: S3Store
  retention: RetentionPolicy
  /** Also restore each backup into a temporary embedded store and check its revision and keys. */
  verifyRestore?: boolean
  now?: () => Date
  onProgress?: (done: number, total: number) => void
}

/** What became of the backup in one destination (its description: the directory, or s3://bucket/prefix). */
export type DestinationOutcome =
  | { destination: string; ok: true; deleted: string[]; kept?: number; retentionError?: Error; abortedUploads?: string[] }
  | { destination: string; ok: false; error: Error }

/** ok: verified and kept in at least one destination (`destinations` says which). */
export type BackupOutcome =
  | { ok: true; record: BackupRecord; durationMs: number; destinations: DestinationOutcome[] }
  | { ok: false; reason: FailureReason; error: Error; durationMs: number; name?: string; destinations: DestinationOutcome[] }

class StageFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly error: Error,
  ) {
    super(error.message)
  }
}

const asFailure = (err: unknown) => (err instanceof StageFailure ? err : new StageFailure('destination', err as Error))

export async function takeBackup(opts: BackupOptions): Promise<BackupOutcome> {
  const now = opts.now ?? (() => new Date())
  const started = Date.now()
  const destinations: DestinationOutcome[] = []
  let name: string | undefined
  let staging: string | undefined
  const failed = (f: StageFailure): BackupOutcome => ({ ok: false, reason: f.reason, error: f.error, durationMs: Date.now() - started, ...(name ? { name } : {}), destinations })
  try {
    const at = now()
    name = backupName(at)
    let path: string | undefined
    if (opts.dir !== undefined) {
      try {
        path = await snapshotIn(opts, opts.dir, name)
      } catch (err) {
        const f = asFailure(err)
        if (f.reason !== 'destination') throw f
        destinations.push({ destination: opts.dir, ok: false, error: f.error })
        if (!opts.s3) return failed(f)
      }
    }
    if (path === undefined) {
      try {
        staging = makeStagingDir()
        path = await snapshotIn(opts, staging, name)
      } catch (err) {
        const f = asFailure(err)
        if (f.reason !== 'destination') throw f
        destinations.push({ destination: opts.s3!.description, ok: false, error: f.error })
        return failed(f)
      }
    }
    const file = path
    const verified = await stage('verify', async () => {
      try {
        const found = await verifyOffThread(file)
        if (opts.verifyRestore) await verifyByRestore(file, found)
        return found
      } catch (err) {
        rmSync(file, { force: true })
        throw err
      }
    })
    const record: BackupRecord = {
      name,
      time: at.toISOString(),
      ...verified,
      verifiedAt: new Date().toISOString(),
      ...(opts.verifyRestore ? { restoreVerified: true } : {}),
      source: opts.source.description,
    }
    if (opts.dir !== undefined && staging === undefined) {
      const dir = dirStore(opts.dir)
      destinations.push(await keepIn(dir, opts.retention, at, () => dir.writeRecord(record)))
    }
    const s3 = opts.s3
    if (s3) {
      const put = async () => {
        if (await s3.exists(record.name)) throw new Error(`${s3.description}${record.name} exists`)
        await s3.upload(file, record)
        await s3.writeRecord(record)
      }
      destinations.push(await keepIn(s3, opts.retention, at, put, () => s3.abortStaleUploads(at)))
    }
    const firstFailure = destinations.find((d) => !d.ok)
    if (!destinations.some((d) => d.ok)) return failed(new StageFailure('destination', (firstFailure as { error: Error }).error))
    return { ok: true, record, durationMs: Date.now() - started, destinations }
  } catch (err) {
    return failed(asFailure(err))
  } finally {
    if (staging) releaseStagingDir(staging)
  }
}

/** The directory made ready and the snapshot written into it (asked again on another member while it is the source that failed). */
async function snapshotIn(opts: BackupOptions, dir: string, name: string): Promise<string> {
  const path = join(dir, name)
  await stage('destination', async () => {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    removeStaleTemps(dir)
    if (existsSync(path)) throw new Error(`${path} exists`)
  })
  for (let attempt = 1; ; attempt++) {
    let sourceFailed = false
    const chunks = async function* () {
      try {
        yield* opts.source.snapshot()
      } catch (err) {
        sourceFailed = true
        throw err
      }
    }
    try {
      await saveSnapshotStream(chunks(), path, { tempFile: join(dir, tempName(name)), onProgress: opts.onProgress })
      return path
    } catch (err) {
      const damaged = (err as { code?: string }).code === Errors.snapshotInvalid.code
      if (!sourceFailed && !damaged) throw new StageFailure('destination', Errors.backupFailed(`writing ${path}`, err as Error))
      if (attempt >= opts.source.attempts) throw new StageFailure('source', Errors.backupFailed(`snapshot from ${opts.source.description}`, err as Error))
    }
  }
}

async function stage<T>(reason: FailureReason, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof StageFailure) throw err
    throw new StageFailure(reason, reason === 'verify' ? (err as Error) : Errors.backupFailed(reason, err as Error))
  }
}

/** The verified backup put into one store, then that store's retention (and `after`, its clean-up) once it holds it. */
async function keepIn(store: BackupStore, policy: RetentionPolicy, at: Date, put: () => Promise<void>, after?: () => Promise<string[]>): Promise<DestinationOutcome> {
  const destination = store.description
  try {
    await put()
  } catch (err) {
    return { destination, ok: false, error: Errors.backupFailed(`keeping it in ${destination}`, err as Error) }
  }
  let retained
  try {
    retained = await retain(store, policy, at)
  } catch (err) {
    const kept = await store.list().then((all) => all.filter((e) => e.record).length, () => undefined)
    return { destination, ok: true, deleted: [], ...(kept === undefined ? {} : { kept }), retentionError: err as Error }
  }
  try {
    const abortedUploads = (await after?.()) ?? []
    return { destination, ok: true, ...retained, ...(abortedUploads.length ? { abortedUploads } : {}) }
  } catch (err) {
    return { destination, ok: true, ...retained, retentionError: Errors.backupFailed('aborting the uploads left incomplete', err as Error) }
  }
}
