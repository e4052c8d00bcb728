/**
 * Backups: the verified snapshots `etcdgw serve --backup-schedule` keeps (GET /backups), the last success and
 * the last attempt from /metrics (etcdgw_backup_*), and verification again on request (POST /backups/verify).
 * The shell shows this view only when the gateway answers GET /backups.
 */
import { useState } from 'preact/hooks'
import { formatExpires } from '../../pki/duration.js'
import { api, type Backup, errorText, getText } from './api.js'
import { bytes } from './format.js'
import { usePoll } from './poll.js'
import { parseMetrics, sum } from './prometheus.js'
import { TableHead } from './table-head.js'
import { Messages } from './messages.js'

const POLL_MS = 10_000

interface Schedule {
  lastSuccess?: Date
  lastAttempt?: Date
  lastAttemptOk?: boolean
  intervalSeconds?: number
}

const dateOf = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000) : undefined)

export function BackupsView({ active }: { active: boolean }) {
  const [backups, setBackups] = useState<Backup[] | null>(null)
  const [schedule, setSchedule] = useState<Schedule>({})
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [verifying, setVerifying] = useState('')
  const refresh = async () => {
    const [list, metrics] = await Promise.allSettled([api.backups(), getText('/metrics')])
    if (list.status === 'fulfilled') setBackups(list.value.backups)
    setError(list.status === 'rejected' ? errorText(list.reason) : '')
    if (metrics.status === 'fulfilled' && metrics.value.ok) {
      const m = parseMetrics(metrics.value.text)
      const attempt = sum(m, 'etcdgw_backup_last_attempt_timestamp_seconds')
      setSchedule({
        lastSuccess: dateOf(sum(m, 'etcdgw_backup_last_success_timestamp_seconds')),
        lastAttempt: dateOf(attempt),
        ...(attempt ? { lastAttemptOk: sum(m, 'etcdgw_backup_last_attempt_success') === 1 } : {}),
        intervalSeconds: sum(m, 'etcdgw_backup_schedule_interval_seconds'),
      })
    }
  }
  usePoll(active, POLL_MS, refresh)

  const verify = async (name: string) => {
    setVerifying(name)
    setNotice('')
    try {
      const { copies } = await api.verifyBackup(name)
      setNotice(copies.map((c) => `${c.name} verified in ${c.store}: revision ${c.revision}, ${c.totalKey} keys, ${bytes(c.fileBytes)}.`).join(' '))
      setError('')
      await refresh()
    } catch (err) {
      setError(`${name}: ${errorText(err)}`)
    } finally {
      setVerifying('')
    }
  }

  // as the README's alert rule: no verified backup for two slots, or none at all and the last attempt failed
  const stale =
    schedule.intervalSeconds !== undefined &&
    (schedule.lastSuccess ? Date.now() - schedule.lastSuccess.getTime() > 2 * schedule.intervalSeconds * 1000 : schedule.lastAttemptOk === false)
  return (
    <div class="backups">
      <Messages error={error} notice={notice} />
      <section class="card" aria-labelledby="backup-schedule-title">
        <h2 id="backup-schedule-title">Schedule</h2>
        <dl class="meta">
          <dt>Last verified backup</dt>
          <dd class={stale ? 'bad' : 'ok'}>{schedule.lastSuccess ? formatExpires(schedule.lastSuccess) : 'none yet'}</dd>
          <dt>Last attempt</dt>
          <dd class={schedule.lastAttemptOk === false ? 'bad' : undefined}>
            {schedule.lastAttempt ? `${formatExpires(schedule.lastAttempt)}: ${schedule.lastAttemptOk ? 'verified' : 'failed (see the log and etcdgw_backup_failures_total)'}` : 'none since the server started'}
          </dd>
          <dt>Every</dt>
          <dd>{schedule.intervalSeconds !== undefined ? interval(schedule.intervalSeconds) : '…'}</dd>
        </dl>
        {stale && <p class="error">No verified backup for two slots of the schedule, or none yet and the last attempt failed.</p>}
      </section>
      {backups === null ? (
        <p>Loading…</p>
      ) : backups.length === 0 ? (
        <p>No backup yet: the first is taken at the schedule's next slot.</p>
      ) : (
        <table>
          <caption>Backups, newest first</caption>
          <TableHead columns={['Name', 'Taken', 'Revision', 'Keys', 'Size', 'Verified', 'Where', 'Action']} />
          <tbody>
            {[...backups].reverse().map((b) => (
              <tr key={b.name} class={`backup ${b.verified ? 'verified' : 'unverified'}`}>
                <td class="name">{b.name}</td>
                <td>{formatExpires(new Date(b.time))}</td>
                <td>{b.revision ?? ''}</td>
                <td>{b.totalKey ?? ''}</td>
                <td>{bytes(b.fileBytes)}</td>
                <td>
                  <span class={`badge ${b.verified ? 'expiry-ok' : 'expiry-expired'}`}>{b.verified ? 'verified' : 'not verified'}</span>
                </td>
                <td>{b.where}</td>
                <td>
                  <button type="button" onClick={() => void verify(b.name)} disabled={verifying !== ''} aria-label={`Verify ${b.name} again`}>
                    {verifying === b.name ? 'Verifying…' : 'Verify'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

function interval(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`
  if (seconds % 3600 === 0) return `${seconds / 3600} h`
  if (seconds % 60 === 0) return `${seconds / 60} min`
  return `${seconds} s`
}
