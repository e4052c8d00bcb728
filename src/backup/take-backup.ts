/**
 * One backup: snapshot from the source → temp file in the directory, fsync'd, renamed to its
 * `snapshot-YYYYMMDD-HHMMSS.db` name → verified, its sidecar written → retention. A snapshot that fails
 * verification is removed and counts as a failure; retention runs only after a verified backup.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { Errors } from '../errors.js'
import { saveSnapshotStream } from '../snapshot/save.js'
import { backupName, type BackupRecord, deleteBackup, listBackups, removeStaleTemps, tempName, writeSidecar } from './backup-files.js'
import type { FailureReason } from './metrics.js'
import { expiredBackups, type RetentionPolicy } from './retention.js'
import type { SnapshotSource } from './sources.js'
import { verifySnapshotFile } from './verify.js'
import { verifyByRestore } from './verify-restore.js'

export interface BackupOptions {
  source: SnapshotSource
  dir: string
  retention: RetentionPolicy
  /** Also restore each backup into a temporary embedded store and check its revision and keys. */
  verifyRestore?: boolean
  now?: () => Date
  onProgress?: (done: number, total: number) => void
}

export type BackupOutcome =
  | { ok: true; record: BackupRecord; durationMs: number; deleted: string[]; kept: number; retentionError?: Error }
  | { ok: false; reason: FailureReason; error: Error; durationMs: number; name?: string }

class StageFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly error: Error,
  ) {
    super(error.message)
  }
}

export async function takeBackup(opts: BackupOptions): Promise<BackupOutcome> {
  const now = opts.now ?? (() => new Date())
  const started = Date.now()
  let name: string | undefined
  try {
    const at = now()
    name = backupName(at)
    const path = join(opts.dir, name)
    await stage('destination', async () => {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 })
      removeStaleTemps(opts.dir)
      if (existsSync(path)) throw new Error(`${path} exists`)
    })
    await snapshotInto(opts, path, name)
    const verified = await stage('verify', async () => {
      try {
        const found = verifySnapshotFile(path)
        if (opts.verifyRestore) await verifyByRestore(path, found)
        return found
      } catch (err) {
        rmSync(path, { force: true })
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
    await stage('destination', async () => writeSidecar(path, record))
    const durationMs = Date.now() - started
    try {
      // retention's clock is the backup's: a slow backup can only make it keep more
      const { deleted, kept } = applyRetention(opts.dir, opts.retention, at)
      return { ok: true, record, durationMs, deleted, kept }
    } catch (err) {
      const kept = listBackups(opts.dir).filter((e) => e.record).length
      return { ok: true, record, durationMs, deleted: [], kept, retentionError: err as Error }
    }
  } catch (err) {
    const failure = err instanceof StageFailure ? err : new StageFailure('destination', err as Error)
    return { ok: false, reason: failure.reason, error: failure.error, durationMs: Date.now() - started, ...(name ? { name } : {}) }
  }
}

/** The stream, asked again (on another member, for a cluster) while it is the source that failed. */
async function snapshotInto(opts: BackupOptions, path: string, name: string): Promise<void> {
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
      await saveSnapshotStream(chunks(), path, { tempFile: join(opts.dir, tempName(name)), onProgress: opts.onProgress })
      return
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

function applyRetention(dir: string, policy: RetentionPolicy, now: Date): { deleted: string[]; kept: number } {
  const all = listBackups(dir)
  const expired = new Set(expiredBackups(all.map((e) => ({ name: e.name, time: e.time, verified: e.record !== undefined })), policy, now))
  for (const entry of all) if (expired.has(entry.name)) deleteBackup(entry, dir)
  return { deleted: [...expired], kept: all.filter((e) => e.record && !expired.has(e.name)).length }
}
