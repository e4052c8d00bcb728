/**
 * The backup metrics, in a registry of their own so `backup run` and `serve` expose the same names. The
 * alert rules in the README are written over these names.
 */
import { Counter, Gauge, Registry } from 'prom-client'

export type FailureReason = 'source' | 'destination' | 'verify' | 'retention'
const REASONS: FailureReason[] = ['source', 'destination', 'verify', 'retention']

export class BackupMetrics {
  private readonly lastSuccess: Gauge
  private readonly lastAttempt: Gauge
  private readonly lastResult: Gauge
  private readonly duration: Gauge
  private readonly size: Gauge
  private readonly revision: Gauge
  private readonly failures: Counter<'reason'>
  private readonly kept: Gauge<'destination'>
  private readonly destinationFailures: Counter<'destination'>
  private readonly destinationSuccess: Gauge<'destination'>
  private readonly interval: Gauge

  /** `registry`: the process-wide one where /metrics should show them (serve, backup run); tests give their own. */
  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry]
    this.lastSuccess = new Gauge({ name: 'etcdgw_backup_last_success_timestamp_seconds', help: 'When the last verified backup was taken (0: none yet).', registers })
    this.lastAttempt = new Gauge({ name: 'etcdgw_backup_last_attempt_timestamp_seconds', help: 'When the last backup attempt started.', registers })
    this.lastResult = new Gauge({ name: 'etcdgw_backup_last_attempt_success', help: '1 when the last backup attempt made a verified backup, else 0.', registers })
    this.duration = new Gauge({ name: 'etcdgw_backup_last_duration_seconds', help: 'How long the last backup attempt took: snapshot, write and verify.', registers })
    this.size = new Gauge({ name: 'etcdgw_backup_last_size_bytes', help: 'Size of the last verified backup file.', registers })
    this.revision = new Gauge({ name: 'etcdgw_backup_last_revision', help: 'Revision of the last verified backup.', registers })
    this.failures = new Counter({ name: 'etcdgw_backup_failures_total', help: 'Failed backups by reason (source, destination, verify, retention).', labelNames: ['reason'], registers })
    this.kept = new Gauge({ name: 'etcdgw_backup_kept', help: 'Verified backups kept, per destination (directory or bucket).', labelNames: ['destination'], registers })
    this.destinationFailures = new Counter({ name: 'etcdgw_backup_destination_failures_total', help: 'Backups a destination (directory or bucket) failed to take or keep.', labelNames: ['destination'], registers })
    this.destinationSuccess = new Gauge({ name: 'etcdgw_backup_destination_last_success_timestamp_seconds', help: 'When the newest verified backup a destination holds was taken.', labelNames: ['destination'], registers })
    this.interval = new Gauge({ name: 'etcdgw_backup_schedule_interval_seconds', help: 'Time between two slots of the schedule.', registers })
    for (const reason of REASONS) this.failures.inc({ reason }, 0)
  }

  attempted(at: Date, ok: boolean, durationMs: number): void {
    this.lastAttempt.set(at.getTime() / 1000)
    this.lastResult.set(ok ? 1 : 0)
    this.duration.set(durationMs / 1000)
  }

  succeeded(at: Date, fileBytes: number, revision: number): void {
    this.lastSuccess.set(at.getTime() / 1000)
    this.size.set(fileBytes)
    this.revision.set(revision)
  }

  failed(reason: FailureReason): void {
    this.failures.inc({ reason })
  }

  keptIn(destination: string, count: number): void {
    this.kept.set({ destination }, count)
  }

  /** A destination that could not take a backup: counted under reason destination too. */
  destinationFailed(destination: string): void {
    this.destinationFailures.inc({ destination })
    this.failures.inc({ reason: 'destination' })
  }

  destinationSucceeded(destination: string, at: Date): void {
    this.destinationSuccess.set({ destination }, at.getTime() / 1000)
    this.destinationFailures.inc({ destination }, 0)
  }

  scheduleInterval(seconds: number): void {
    this.interval.set(seconds)
  }
}
