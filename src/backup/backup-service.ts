/**
 * Backups of one source into a directory, a bucket or both, the way `backup now`, `backup run` and `serve`
 * take them: one at a time, each outcome in the metrics (per destination too) and in one structured log line.
 */
import type { BackupRecord } from './backup-files.js'
import { type BackupStore, dirStore } from './backup-store.js'
import { BackupMetrics } from './metrics.js'
import type { RetentionPolicy } from './retention.js'
import type { S3Store } from './s3-store.js'
import type { SnapshotSource } from './sources.js'
import { type BackupOutcome, type DestinationOutcome, takeBackup } from './take-backup.js'

/** Receives each backup's log line as an object (written as one JSON line by the CLI, given to pino by serve). */
export type BackupLog = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void

export interface BackupServiceOptions {
  source: SnapshotSource
  /** The backup directory; with `s3`, either or both. */
  dir?: string
  s3?: S3Store
  retention: RetentionPolicy
  verifyRestore?: boolean
  log: BackupLog
  metrics?: BackupMetrics
  now?: () => Date
}

export class BackupService {
  readonly metrics: BackupMetrics
  private running: Promise<BackupOutcome> | undefined

  constructor(private readonly opts: BackupServiceOptions) {
    this.metrics = opts.metrics ?? new BackupMetrics()
  }

  /**
   * Sets the metrics from the backups already kept, so a restarted daemon reports its last success; a
   * destination that cannot be read now is left to the first backup to report.
   */
  async observe(): Promise<void> {
    const stores: BackupStore[] = [...(this.opts.dir !== undefined ? [dirStore(this.opts.dir)] : []), ...(this.opts.s3 ? [this.opts.s3] : [])]
    let newestOfAll: BackupRecord | undefined
    for (const store of stores) {
      const verified = await store.list().then((all) => all.filter((e) => e.record), () => undefined)
      if (!verified) continue
      const newest = verified.at(-1)?.record
      if (newest) {
        this.metrics.destinationSucceeded(store.description, new Date(newest.time))
        if (!newestOfAll || Date.parse(newest.time) > Date.parse(newestOfAll.time)) newestOfAll = newest
      }
      this.metrics.keptIn(store.description, verified.length)
    }
    if (newestOfAll) this.metrics.succeeded(new Date(newestOfAll.time), newestOfAll.fileBytes, newestOfAll.revision)
  }

  /** Takes one backup; a call while one runs waits for that one and returns its outcome. */
  backup(onProgress?: (done: number, total: number) => void): Promise<BackupOutcome> {
    this.running ??= this.take(onProgress).finally(() => (this.running = undefined))
    return this.running
  }

  private async take(onProgress?: (done: number, total: number) => void): Promise<BackupOutcome> {
    const { log, ...opts } = this.opts
    const at = new Date()
    const outcome = await takeBackup({ ...opts, ...(onProgress ? { onProgress } : {}) })
    const complete = outcome.ok && outcome.destinations.every((d) => d.ok)
    this.metrics.attempted(at, complete, outcome.durationMs)
    const common = {
      ...(opts.dir !== undefined ? { dir: opts.dir } : {}),
      ...(opts.s3 ? { s3: opts.s3.description } : {}),
      source: opts.source.description,
      // the line is written at the end: when the backup began, to place it among other events
      startedAt: at.toISOString(),
      durationMs: outcome.durationMs,
      destinations: outcome.destinations.map(logged),
    }
    for (const d of outcome.destinations) if (!d.ok) this.metrics.destinationFailed(d.destination)
    if (!outcome.ok) {
      if (outcome.reason !== 'destination') this.metrics.failed(outcome.reason)
      log('error', { ...common, name: outcome.name, result: 'failed', reason: outcome.reason, error: outcome.error.message }, 'backup failed; nothing deleted')
      return outcome
    }
    const { record } = outcome
    this.metrics.succeeded(new Date(record.time), record.fileBytes, record.revision)
    let retentionFailed = false
    for (const d of outcome.destinations) {
      if (!d.ok) continue
      this.metrics.destinationSucceeded(d.destination, new Date(record.time))
      if (d.kept !== undefined) this.metrics.keptIn(d.destination, d.kept)
      if (d.retentionError) {
        this.metrics.failed('retention')
        retentionFailed = true
      }
    }
    const deleted = [...new Set(outcome.destinations.flatMap((d) => (d.ok ? d.deleted : [])))]
    const fields = { ...common, name: record.name, revision: record.revision, totalKey: record.totalKey, fileBytes: record.fileBytes, hash: record.hash, deleted }
    if (!complete) log('error', { ...fields, result: 'partial' }, 'backup verified, but a destination failed (nothing deleted there)')
    else log(retentionFailed ? 'warn' : 'info', { ...fields, result: 'ok' }, 'backup verified')
    return outcome
  }
}

function logged(d: DestinationOutcome): Record<string, unknown> {
  if (!d.ok) return { destination: d.destination, result: 'failed', error: d.error.message }
  return {
    destination: d.destination,
    result: 'ok',
    deleted: d.deleted,
    ...(d.kept !== undefined ? { kept: d.kept } : {}),
    ...(d.abortedUploads ? { abortedUploads: d.abortedUploads } : {}),
    ...(d.retentionError ? { retentionError: d.retentionError.message } : {}),
  }
}
