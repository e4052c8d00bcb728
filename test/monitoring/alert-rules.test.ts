/**
 * monitoring/etcdgw-alerts.yaml under `promtool test rules`, on series scraped from etcdgw and from a real
 * etcd put in the same situation: the same alerts fire for both, and only those. Each situation is scraped
 * before and after what happens in it; the series go on as they went between the two scrapes (a gauge
 * stays where it was, a counter keeps growing by as much per minute) for long enough for every rule's `for`.
 *
 * The fsync and commit histograms time this machine's disk, not the situation (a single fsync slowed by a
 * loaded CI machine is the 99th percentile of a few dozen): in every situation they keep the buckets each
 * server exposes and grow as a disk taking 1 ms per write would grow them, in the slow-disk one 2 s, where
 * failed proposals are also added to the real counter. Everything else is as scraped.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { parse, stringify } from 'yaml'
import { buildApp } from '../../src/app.js'
import { openRemoteBackend } from '../../src/backend/remote/index.js'
import { Errors } from '../../src/errors.js'
import { startEtcd, startEtcdCluster } from '../helpers/etcd.js'
import { PROMTOOL_BIN, prometheusMissing } from '../helpers/prometheus.js'
import { etcdMissing, OUR_TARGETS } from '../helpers/servers.js'
import { b64, post } from '../helpers/stream-clients.js'
import { type Family, type Sample, scrape } from '../helpers/exposition.js'

const missing = etcdMissing() || prometheusMissing()
if (missing) t.plan(0, missing)

const RULES = new URL('../../../monitoring/etcdgw-alerts.yaml', import.meta.url)
const TARGET = { job: 'etcd', instance: 'member' }
const MINUTES = 40

/** The histograms timing the disk's writes: their growth is that of a disk taking so many seconds per write. */
const DISK_HISTOGRAMS = ['etcd_disk_wal_fsync_duration_seconds', 'etcd_disk_backend_commit_duration_seconds']
const FAST_DISK_S = 0.001
const SLOW_DISK_S = 2
/** Writes per minute on that disk. */
const DISK_WRITES = 1000

interface Rule {
  alert: string
  labels: Record<string, string>
  annotations: Record<string, string>
}
const rules: Rule[] = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules)

/** The families the rules read. */
const ruleFamilies = [
  'etcd_server_has_leader',
  'etcd_server_leader_changes_seen_total',
  'etcdgw_upstream_leader_changes_seen_total',
  'etcd_disk_wal_fsync_duration_seconds',
  'etcd_disk_backend_commit_duration_seconds',
  'etcd_server_proposals_failed_total',
  'etcd_mvcc_db_total_size_in_bytes',
  'etcd_server_quota_backend_bytes',
  'grpc_server_handled_total',
]

type Scrape = Map<string, Family>

/** A server in a situation: /metrics before and after it. */
interface Observed {
  before: Scrape
  after: Scrape
}

/** An alert expected to fire: its name and the labels of its series (the target's and the rule's come on top). */
interface Firing {
  alert: string
  labels?: Record<string, string>
}

const selector = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`

const key = (name: string, labels: Record<string, string>) => selector(name, Object.fromEntries(Object.entries(labels).sort()))

/** A disk histogram's growth per minute: DISK_WRITES writes of `seconds` each. */
function diskGrowth(s: Sample, seconds: number): number {
  if (s.name.endsWith('_sum')) return DISK_WRITES * seconds
  return s.name.endsWith('_count') || Number(s.labels.le) >= seconds ? DISK_WRITES : 0
}

/**
 * promtool's input series: gauges held at their later value, counters and histograms growing as they did,
 * the disk's histograms as a disk taking `diskSeconds` per write makes them grow.
 */
function inputSeries({ before, after }: Observed, diskSeconds: number): { series: string; values: string }[] {
  const out = []
  for (const name of ruleFamilies) {
    const family = after.get(name)
    if (!family) continue
    const earlier = new Map((before.get(name)?.samples ?? []).map((s) => [key(s.name, s.labels), s.value]))
    for (const s of family.samples) {
      const a = earlier.get(key(s.name, s.labels)) ?? 0
      const growth = DISK_HISTOGRAMS.includes(name) ? diskGrowth(s, diskSeconds) : s.value - a
      const values = family.type === 'gauge' ? `${s.value}x${MINUTES}` : `${a}+${growth}x${MINUTES}`
      out.push({ series: selector(s.name, { ...s.labels, ...TARGET }), values })
    }
  }
  return out
}

/** `{{ $labels.x }}` as Prometheus renders it. */
const render = (text: string, labels: Record<string, string>) => text.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, l: string) => labels[l] ?? '')

/** Runs promtool on the observed series; every rule is checked: the expected alerts fire, no others. */
function promtool(t: Test, name: string, observed: Observed, firing: Firing[], diskSeconds = FAST_DISK_S): void {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-promtool-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const test = {
    rule_files: [RULES.pathname],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: inputSeries(observed, diskSeconds),
        alert_rule_test: rules.map((r) => ({
          eval_time: `${MINUTES - 5}m`,
          alertname: r.alert,
          exp_alerts: firing
            .filter((f) => f.alert === r.alert)
            .map((f) => {
              const labels = { ...TARGET, ...f.labels, ...r.labels }
              return { exp_labels: labels, exp_annotations: Object.fromEntries(Object.entries(r.annotations).map(([k, v]) => [k, render(v, labels)])) }
            }),
        })),
      },
    ],
  }
  const file = join(dir, 'test.yaml')
  writeFileSync(file, stringify(test))
  const run = spawnSync(PROMTOOL_BIN, ['test', 'rules', file], { encoding: 'utf8' })
  t.equal(run.status, 0, `${name}: ${firing.map((f) => f.alert).join(', ') || 'no alert'} fires`, { promtool: run.stdout + run.stderr })
}

/** Scrapes `url` around `situation`. */
async function observe(url: string, situation: () => Promise<void>): Promise<Observed> {
  const before = await scrape(url)
  await situation()
  return { before, after: await scrape(url) }
}

/** etcdgw in this process in front of `endpoints`; stopped at teardown. */
async function remoteGateway(t: Test, endpoints: string[]): Promise<string> {
  const backend = await openRemoteBackend({ endpoints, requestTimeoutMs: 7_000 })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  t.teardown(async () => {
    await app.close()
    await backend.close()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

const sample = (s: Scrape, name: string, labels: Record<string, string> = {}) =>
  s.get(name)?.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value

/** Runs `attempt` until it gives a result (a condition the situation reaches on its own); that result. */
async function poll<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const result = await attempt()
    if (result !== undefined) return result
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 20 s`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Polls `url`'s /metrics until `check` holds; the scrape where it did. */
const until = (url: string, what: string, check: (s: Scrape) => boolean) =>
  poll(`${url}: ${what}`, async () => {
    const s = await scrape(url)
    return check(s) ? s : undefined
  })

/** What the leadership case reads of /v3/maintenance/status. */
interface Status {
  header: { member_id: string }
  leader: string
  raftTerm: string
}

const put = (url: string, k: string, bytes = 1) =>
  post(url, '/v3/kv/put', JSON.stringify({ key: b64(k), value: Buffer.alloc(bytes).toString('base64') }))

t.test('a healthy member: no alert', async (t) => {
  const [etcd, ours] = await Promise.all([startEtcd({ teardown: t }), OUR_TARGETS[0][1](t)])
  const traffic = async (url: string) => {
    for (let i = 0; i < 20; i++) {
      await put(url, `healthy/${i}`)
      await post(url, '/v3/kv/range', JSON.stringify({ key: b64(`healthy/${i}`) }))
    }
  }
  const [e, o] = await Promise.all([observe(etcd.url, () => traffic(etcd.url)), observe(ours.url, () => traffic(ours.url))])
  promtool(t, 'etcd', e, [])
  promtool(t, 'etcdgw', o, [])

  // a slow disk, and proposals failing on the counter as each exposes it
  const failing = (o: Observed): Observed => {
    const after = new Map(o.after)
    const failed = after.get('etcd_server_proposals_failed_total')!
    after.set('etcd_server_proposals_failed_total', { ...failed, samples: failed.samples.map((s) => ({ ...s, value: s.value + 600 })) })
    return { before: o.before, after }
  }
  const disk: Firing[] = [{ alert: 'EtcdHighFsyncDurations' }, { alert: 'EtcdHighCommitDurations' }, { alert: 'EtcdHighNumberOfFailedProposals' }]
  promtool(t, 'etcd, slow disk', failing(e), disk, SLOW_DISK_S)
  promtool(t, 'etcdgw, slow disk', failing(o), disk, SLOW_DISK_S)
})

t.test('the database full, and writes failing with NOSPACE', async (t) => {
  const quota = 4 * 1024 * 1024
  const [etcd, ours] = await Promise.all([
    startEtcd({ teardown: t, flags: ['--quota-backend-bytes', String(quota)] }),
    OUR_TARGETS[0][1](t, { backend: { quotaBackendBytes: quota } }),
  ])
  const fill = async (url: string) => {
    for (let i = 0; (await put(url, `full/${i}`, 48 * 1024)).status === 200; i++) if (i > 1000) throw new Error(`${url} never filled`)
  }
  const failing = async (url: string) => {
    for (let i = 0; i < 20; i++) if ((await put(url, `more/${i}`)).status !== 429) throw new Error(`${url}: a put succeeded under NOSPACE`)
  }
  await Promise.all([fill(etcd.url), fill(ours.url)])
  const [e, o] = await Promise.all([observe(etcd.url, () => failing(etcd.url)), observe(ours.url, () => failing(ours.url))])
  const firing: Firing[] = [
    { alert: 'EtcdDatabaseQuotaLowSpace' },
    { alert: 'EtcdHighNumberOfFailedGRPCRequests', labels: { grpc_method: 'Put', grpc_service: 'etcdserverpb.KV' } },
  ]
  promtool(t, 'etcd', e, firing)
  promtool(t, 'etcdgw', o, firing)
})

t.test('a member without a leader (its peer gone), and etcdgw in front of it', async (t) => {
  const cluster = await startEtcdCluster(2, { fastElection: true, teardown: t })
  const survivor = cluster.members[0]!
  const gateway = await remoteGateway(t, [survivor.url])
  await cluster.members[1]!.stop()
  await until(survivor.url, 'losing the leader', (s) => sample(s, 'etcd_server_has_leader') === 0)
  await until(gateway, 'losing the leader', (s) => sample(s, 'etcd_server_has_leader') === 0)
  // etcd ends the gateway's watch (opened with etcd's hasleader) a moment after the leader went, and counts
  // it as one failed Watch; a single failure is no sustained failure rate, but one falling between the two
  // scrapes would read as one. The observation starts once etcd has ended it (refusals of new watches and
  // calls while there is no leader are not counted by etcd).
  const watchEnded = (s: Scrape) => (sample(s, 'grpc_server_handled_total', { grpc_method: 'Watch', grpc_code: 'Unavailable' }) ?? 0) >= 1
  await until(survivor.url, "the gateway's watch ended", watchEnded)
  const [e, o] = await Promise.all([observe(survivor.url, async () => {}), observe(gateway, async () => {})])
  promtool(t, 'etcd', e, [{ alert: 'EtcdNoLeader' }])
  promtool(t, 'etcdgw remote', o, [{ alert: 'EtcdNoLeader' }])
})

t.test('leadership moving round a 3-member cluster, and etcdgw in front of it', async (t) => {
  // etcd's own raft timing (heartbeat 100 ms, election 1 s), as on the members the rule watches, and pre-vote:
  // with a 100 ms election timeout a slow fsync or a stall of the leader elected another leader, a change the
  // test did not make, and without pre-vote a follower's stall deposes the leader
  const cluster = await startEtcdCluster(3, { flags: ['--pre-vote'], teardown: t })
  const gateway = await remoteGateway(t, cluster.endpoints())
  const member = cluster.members[0]!.url
  const changes = (s: Scrape) => sample(s, 'etcdgw_upstream_leader_changes_seen_total') ?? 0
  await until(gateway, 'a leader seen', (s) => changes(s) >= 1)
  /**
   * The leader as the test knows it, and the one before: the gateway's last probe may still report either (a
   * member's answer can lag a move, an election the test did not make can fall between two probes), and a
   * move to the leader the gateway holds would not be seen as a change. Each move goes to the third member.
   */
  let [leader, previous] = ['', '']
  /** The members that refused a move as "not leader". */
  const refused = new Set<string>()
  const move = () =>
    poll('a leadership move', async () => {
      const statuses = await Promise.all(
        cluster.members.map(async (m) => ({ url: m.url, ...(JSON.parse((await post(m.url, '/v3/maintenance/status', '{}')).body) as Status) })),
      )
      // the leader of the newest term any member is in; none while an election runs
      const term = Math.max(...statuses.map((s) => Number(s.raftTerm)))
      const leading = statuses.find((s) => s.leader === s.header.member_id && Number(s.raftTerm) === term)
      if (!leading) return undefined
      if (leading.header.member_id !== leader) [leader, previous] = [leading.header.member_id, leader]
      const target = statuses.find((s) => s.header.member_id !== leader && s.header.member_id !== previous)!.header.member_id
      const moved = await post(leading.url, '/v3/maintenance/transfer-leadership', JSON.stringify({ targetID: target }))
      if (moved.status !== 200 && (JSON.parse(moved.body) as { message?: string }).message === Errors.notLeader.message) {
        refused.add(leading.url) // leadership moved on its own since the statuses were read: they are read again
        return undefined
      }
      if (moved.status !== 200) throw new Error(`transfer-leadership: ${moved.status} ${moved.body}`)
      ;[leader, previous] = [target, leader]
      return true
    })
  const [eb, ob] = await Promise.all([scrape(member), scrape(gateway)])
  for (let i = 0; i < 4; i++) {
    const seen = changes(await scrape(gateway))
    await move()
    await until(gateway, 'the new leader seen', (s) => changes(s) > seen)
  }
  // a member knows the new leader a moment after a move: the last scrapes are ones with a leader
  const led = (s: Scrape) => sample(s, 'etcd_server_has_leader') === 1
  const [ea, oa] = await Promise.all([until(member, 'a leader known', led), until(gateway, 'a leader known', led)])
  // an election the test did not make counts too: the rule wants 4 or more
  const counted = sample(ea, 'etcd_server_leader_changes_seen_total')! - sample(eb, 'etcd_server_leader_changes_seen_total')!
  t.ok(counted >= 4, 'etcd counted the 4 moves', { counted })
  // a move the member refused is a failed MoveLeader to etcd, which the failed-requests rule rightly reports
  const refusedMove = { alert: 'EtcdHighNumberOfFailedGRPCRequests', labels: { grpc_method: 'MoveLeader', grpc_service: 'etcdserverpb.Maintenance' } }
  promtool(t, 'etcd', { before: eb, after: ea }, [{ alert: 'EtcdHighNumberOfLeaderChanges' }, ...(refused.has(member) ? [refusedMove] : [])])
  promtool(t, 'etcdgw remote', { before: ob, after: oa }, [{ alert: 'EtcdHighNumberOfLeaderChanges' }])
})
