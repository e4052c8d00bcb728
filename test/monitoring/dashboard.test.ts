/**
 * A real Prometheus (Debian's) scrapes etcdgw as it would scrape an etcd member (job "etcd", a cluster
 * label), and every query of etcd's Grafana dashboard (etcd-mixin.ts) returns series, the cluster
 * variable's included.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { launch } from '../helpers/managed-server.js'
import { PROMETHEUS_BIN, prometheusMissing } from '../helpers/prometheus.js'
import { OUR_TARGETS } from '../helpers/servers.js'
import { b64, openWs, post } from '../helpers/stream-clients.js'
import { dashboardQueries } from './etcd-mixin.js'

const missing = prometheusMissing()
if (missing) t.plan(0, missing)

const CLUSTER = 'etcdgw-test'

interface QueryResult {
  status: string
  data: { result: { metric: Record<string, string> }[] }
}

t.test("etcd's dashboard on etcdgw, through a real Prometheus", async (t) => {
  const ours = await OUR_TARGETS[0][1](t)
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-prometheus-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: etcd',
      `    static_configs: [{ targets: ["${new URL(ours.url).host}"], labels: { cluster: ${CLUSTER} } }]`,
    ].join('\n'),
  )
  const prometheus = await launch({
    what: 'prometheus',
    command: PROMETHEUS_BIN,
    portCount: 1,
    args: ([port], dataDir) => ['--config.file', config, '--storage.tsdb.path', dataDir, '--web.listen-address', `127.0.0.1:${port}`],
    ready: async (url) => (await fetch(url + '/-/ready').catch(() => undefined))?.status === 200,
    teardown: t,
  })

  // what the panels show: writes, reads, an open watch stream and a keepalive stream
  await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64('dash/k'), value: b64('v') }))
  await post(ours.url, '/v3/kv/range', JSON.stringify({ key: b64('dash/k') }))
  const watch = await openWs(ours.url, '/v3/watch')
  watch.send(JSON.stringify({ create_request: { key: b64('dash/k') } }))
  await watch.waitFor(1)
  t.teardown(() => watch.close())

  const query = async (q: string) => {
    const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`)
    const body = (await res.json()) as QueryResult
    if (body.status !== 'success') throw new Error(`${q}: ${JSON.stringify(body)}`)
    return body.data.result
  }
  const withVariables = (q: string) => q.replaceAll('$job', 'etcd').replaceAll('$cluster', CLUSTER).replaceAll('$__rate_interval', '4s')
  // until enough scrapes are in for a rate: each query is asked again until it answers (20 s at most)
  const pending = new Map(Object.entries(dashboardQueries).map(([name, q]) => [name, withVariables(q)]))
  const deadline = Date.now() + 20_000
  while (pending.size > 0 && Date.now() < deadline) {
    for (const [name, q] of pending) if ((await query(q)).length > 0) pending.delete(name)
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 250))
  }
  t.strictSame([...pending.keys()], [], 'every dashboard query returns series')
  t.strictSame(
    (await query(withVariables(dashboardQueries.clusterVariable!))).map((r) => r.metric.cluster),
    [CLUSTER],
    'the cluster variable lists the gateway',
  )
  t.strictSame((await query('up{job="etcd"}')).length, 1, 'one target')
  await prometheus.stop()
})
