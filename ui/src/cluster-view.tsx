/** Cluster: members and leader, status, health, alarms, live charts from /metrics, compaction and defragmentation. */
import { useRef, useState } from 'preact/hooks'
import { type Alarm, api, errorText, getText, type Member, type StatusResponse } from './api.js'
import { Chart, type Series } from './chart.js'
import { useConfirm } from './confirm.js'
import { bytes, millis, rate } from './format.js'
import { usePoll } from './poll.js'
import { parseMetrics, sum } from './prometheus.js'
import { TableHead } from './table-head.js'
import { Messages } from './messages.js'

const POLL_MS = 2000
/** Five minutes of points at POLL_MS. */
const POINTS = 150

interface Charts {
  requests: Series
  latency: Series
  dbSize: Series
}

const emptySeries = (): Series => ({ times: [], values: [] })
const push = (s: Series, t: number, v: number | null): Series => ({ times: [...s.times, t].slice(-POINTS), values: [...s.values, v].slice(-POINTS) })

export function ClusterView({ active }: { active: boolean }) {
  const [status, setStatus] = useState<StatusResponse | null>(null)
  const [members, setMembers] = useState<Member[]>([])
  const [alarms, setAlarms] = useState<Alarm[]>([])
  const [health, setHealth] = useState<string>('')
  const [quota, setQuota] = useState<number | undefined>(undefined)
  const [charts, setCharts] = useState<Charts>({ requests: emptySeries(), latency: emptySeries(), dbSize: emptySeries() })
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [compactTo, setCompactTo] = useState('')
  const [physical, setPhysical] = useState(true)
  const [confirm, dialog] = useConfirm()
  const previous = useRef<{ t: number; count: number; sum: number } | null>(null)

  const refresh = async () => {
    const [s, m, a, h, metrics] = await Promise.allSettled([api.status(), api.memberList(), api.alarms(), getText('/health'), getText('/metrics')])
    if (s.status === 'fulfilled') setStatus(s.value)
    if (m.status === 'fulfilled') setMembers(m.value.members ?? [])
    if (a.status === 'fulfilled') setAlarms(a.value.alarms ?? [])
    if (h.status === 'fulfilled') setHealth(healthText(h.value))
    const failed = [s, m, a].find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined
    setError(failed ? errorText(failed.reason) : '')
    if (metrics.status === 'fulfilled' && metrics.value.ok) {
      const parsed = parseMetrics(metrics.value.text)
      const t = Date.now() / 1000
      const count = sum(parsed, 'etcdgw_http_request_duration_seconds_count') ?? 0
      const total = sum(parsed, 'etcdgw_http_request_duration_seconds_sum') ?? 0
      const db = sum(parsed, 'etcd_mvcc_db_total_size_in_bytes')
      setQuota(sum(parsed, 'etcd_server_quota_backend_bytes'))
      const p = previous.current
      previous.current = { t, count, sum: total }
      setCharts((c) => ({
        requests: p ? push(c.requests, t, (count - p.count) / (t - p.t)) : c.requests,
        latency: p ? push(c.latency, t, count > p.count ? (total - p.sum) / (count - p.count) : null) : c.latency,
        dbSize: push(c.dbSize, t, db ?? null),
      }))
    }
  }
  usePoll(active, POLL_MS, refresh)

  const act = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run()
      setNotice(what)
      setError('')
      await refresh()
    } catch (err) {
      setError(errorText(err))
    }
  }
  const disarm = async (alarm: Alarm) => {
    if (!(await confirm({ title: `Disarm ${alarm.alarm}?`, body: <p>Clear the {alarm.alarm} alarm of member {alarm.memberID}. Fix its cause first (for NOSPACE: delete, compact, defragment).</p>, action: 'Disarm', danger: true }))) return
    await act(`Alarm ${alarm.alarm} disarmed.`, () => api.disarm(alarm))
  }
  const compact = async (e: Event) => {
    e.preventDefault()
    const current = Number(status?.header.revision ?? 0)
    const revision = compactTo.trim() === '' ? current : Number(compactTo)
    if (!Number.isSafeInteger(revision) || revision <= 0) return setError(`"${compactTo}" is not a revision`)
    if (!(await confirm({ title: `Compact to revision ${revision}?`, body: <p>Every key's history before revision {revision} is removed for good (the current revision is {current}); watches and reads at older revisions fail from then on.</p>, action: 'Compact', danger: true }))) return
    await act(`Compacted to revision ${revision}.`, () => api.compact(revision, physical))
  }
  const defragment = async () => {
    if (!(await confirm({ title: 'Defragment?', body: <p>Copy the live data into a fresh database file to give free space back to the disk. Requests wait while it runs.</p>, action: 'Defragment', danger: true }))) return
    await act('Defragmented.', () => api.defragment())
  }

  const leader = status?.leader
  const dbSize = Number(status?.dbSize ?? 0)
  return (
    <div class="cluster">
      <Messages error={error} notice={notice} />
      <div class="cards">
        <section class="card" aria-labelledby="status-title">
          <h2 id="status-title">Status</h2>
          <dl class="meta">
            <dt>Health</dt>
            <dd class={health === 'healthy' ? 'ok' : 'bad'}>{health || '…'}</dd>
            <dt>etcd version</dt>
            <dd>{status?.version ?? '…'}</dd>
            <dt>Revision</dt>
            <dd>{status?.header.revision ?? '…'}</dd>
            <dt>Raft term</dt>
            <dd>{status?.raftTerm ?? '…'}</dd>
            <dt>Raft index</dt>
            <dd>{status?.raftIndex ?? '…'}</dd>
            <dt>DB size</dt>
            <dd>
              {status ? (
                <>
                  {bytes(dbSize)} ({bytes(Number(status.dbSizeInUse ?? 0))} in use)
                  {quota ? (
                    <>
                      {' '}of {bytes(quota)} quota
                      <meter min={0} max={quota} value={dbSize} low={quota * 0.7} high={quota * 0.9} optimum={0} aria-label="DB size against the quota" />
                    </>
                  ) : null}
                </>
              ) : (
                '…'
              )}
            </dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="alarms-title">
          <h2 id="alarms-title">Alarms</h2>
          {alarms.length === 0 ? (
            <p class="ok">No alarm.</p>
          ) : (
            <ul>
              {alarms.map((a) => (
                <li key={`${a.memberID}-${a.alarm}`} class="bad">
                  {a.alarm} on member {a.memberID}{' '}
                  <button type="button" onClick={() => disarm(a)}>
                    Disarm {a.alarm}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <h2>Maintenance</h2>
          <form class="toolbar" onSubmit={compact} aria-label="Compaction">
            <label for="compact-rev">Compact to revision</label>
            <input id="compact-rev" inputMode="numeric" size={10} value={compactTo} placeholder={status?.header.revision ?? ''} onInput={(e) => setCompactTo(e.currentTarget.value)} />
            <label>
              <input type="checkbox" checked={physical} onChange={(e) => setPhysical(e.currentTarget.checked)} /> physical
            </label>
            <button type="submit">Compact</button>
          </form>
          <div class="toolbar">
            <button type="button" onClick={defragment}>
              Defragment
            </button>
          </div>
        </section>
      </div>
      <section aria-labelledby="members-title">
        <h2 id="members-title">Members</h2>
        <table>
          <TableHead columns={['ID', 'Name', 'Role', 'Client URLs', 'Peer URLs']} />
          <tbody>
            {members.map((m) => (
              <tr key={m.ID}>
                <td>{BigInt(m.ID).toString(16)}</td>
                <td>{m.name ?? ''}</td>
                <td>{m.ID === leader ? 'leader' : m.isLearner ? 'learner' : 'follower'}</td>
                <td>{(m.clientURLs ?? []).join(', ')}</td>
                <td>{(m.peerURLs ?? []).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="charts" aria-label="Charts">
        <Chart title="Requests" unit="per second" series={charts.requests} format={rate} />
        <Chart title="Mean latency" unit="ms" series={charts.latency} format={millis} />
        <Chart title="DB size" unit="" series={charts.dbSize} format={bytes} />
      </section>
      {dialog}
    </div>
  )
}

function healthText(h: { ok: boolean; status: number; text: string }): string {
  try {
    const body = JSON.parse(h.text) as { health?: string; reason?: string }
    return body.health === 'true' ? 'healthy' : `unhealthy${body.reason ? `: ${body.reason}` : ''}`
  } catch {
    return `unhealthy (HTTP ${h.status})`
  }
}
