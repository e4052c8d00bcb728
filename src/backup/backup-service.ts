/**
 * Backups of one source into one directory, the way `backup now`, `backup run` and `serve` take them:
 * one at a time, each outcome in the metrics and in one structured log line.
 */
import { existsSync } from 'node:fs'
import { listBackups } from './backup-files.js'
import { BackupMetrics } from './metrics.js'
import type { RetentionPolicy } from './retention.js'
import type { SnapshotSource } from './sources.js'
import { type BackupOutcome, takeBackup } from './take-backup.js'

/** Receives each backup's log line as an object (written as one JSON line by the CLI, given to pino by serve). */
export type BackupLog = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void

export interface BackupServiceOptions {
  source: SnapshotSource
  dir: string
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

  /** Sets the metrics from the backups already in the directory, so a restarted daemon reports its last success. */
  observeDirectory(): void {
    if (!existsSync(this.opts.dir)) return
    const verified = listBackups(this.opts.dir).filter((e) => e.record)
    const newest = verified.at(-1)?.record
    if (newest) this.metrics.succeeded(new Date(newest.time), newest.fileBytes, newest.revision)
    this.metrics.keptIn(this.opts.dir, verified.length)
  }

  /** Takes one backup; a call while one runs waits for that one and returns its outcome. */
  backup(onProgress?: (done: number, total: number) => void): Promise<BackupOutcome> {
    this.running ??= this.take(onProgress).finally(() => (this.running = undefined))
    return this.running
  }

  private async take(onProgress?: (done: number, total: number) => void): Promise<BackupOutcome> {
    const { log, ...opts } = this.opts
    const { source, dir } = opts
    const at = new Date()
    const outcome = await takeBackup({ ...opts, ...(onProgress ? { onProgress } : {}) })
    this.metrics.attempted(at, outcome.ok, outcome.durationMs)
    const common = { dir, source: source.description, durationMs: outcome.durationMs }
    if (!outcome.ok) {
      this.metrics.failed(outcome.reason)
      log('error', { ...common, name: outcome.name, result: 'failed', reason: outcome.reason, error: outcome.error.message }, 'backup failed; nothing deleted')
      return outcome
    }
    const { record } = outcome
    this.metrics.succeeded(new Date(record.time), record.fileBytes, record.revision)
    this.metrics.keptIn(dir, outcome.kept)
    if (outcome.retentionError) this.metrics.failed('retention')
    log(
      outcome.retentionError ? 'warn' : 'info',
      {
        ...common,
        name: record.name,
        result: 'ok',
        revision: record.revision,
        totalKey: record.totalKey,
        fileBytes: record.fileBytes,
        hash: record.hash,
        deleted: outcome.deleted,
        kept: outcome.kept,
        ...(outcome.retentionError ? { retentionError: outcome.retentionError.message } : {}),
      },
      'backup verified',
    )
    return outcome
  }
}
