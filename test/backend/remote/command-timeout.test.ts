/** `--command-timeout`: a request stuck on an unresponsive etcd fails with 503 at the deadline, not etcd's 7 s. */
import { spawnSync } from 'node:child_process'
import t from 'tap'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { post } from '../../helpers/http.js'
import { MAIN, startServe, type ServeProcess } from '../../helpers/serve-process.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const PUT = JSON.stringify({ key: Buffer.from('foo').toString('base64'), value: Buffer.from('bar').toString('base64') })
const TIMED_OUT = '{"error":"etcdserver: request timed out","message":"etcdserver: request timed out","code":14}'
// what a request would take were the deadline not applied: serve's default command timeout
const DEFAULT_TIMEOUT_MS = 5_000

async function timed(server: ServeProcess, path: string, body: string) {
  const started = performance.now()
  const res = await post(server.url, path, body)
  return { status: res.status, body: res.body, ms: performance.now() - started }
}

t.test('a write and a read to a frozen etcd end with 503 at the command timeout (flag and ETCDCTL_ env)', async (t) => {
  const etcd = await startEtcd({ teardown: t })
  const byFlag = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--endpoints', etcd.url, '--command-timeout', '800ms'])
  const byEnv = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--endpoints', etcd.url], { ETCDCTL_COMMAND_TIMEOUT: '1.5s' })
  t.equal((await post(byFlag.url, '/v3/kv/put', PUT)).status, 200, 'a put goes through while etcd runs')

  process.kill(etcd.pid, 'SIGSTOP')
  let results
  try {
    results = await Promise.all([
      timed(byFlag, '/v3/kv/put', PUT),
      timed(byFlag, '/v3/kv/range', '{"key":"Zm9v"}'),
      timed(byEnv, '/v3/kv/put', PUT),
    ])
  } finally {
    process.kill(etcd.pid, 'SIGCONT')
  }
  const [put, range, envPut] = results
  for (const [what, r, deadline] of [['put', put, 800], ['range', range, 800], ['put (env)', envPut, 1500]] as const) {
    t.equal(r.status, 503, `${what}: 503`)
    t.equal(r.body, TIMED_OUT, `${what}: etcd's timeout error`)
    // not before the deadline (the server holds it); after it, as late as the gateway and this process are
    // scheduled on a loaded machine, but well before the default a deadline not applied would leave
    t.ok(r.ms >= deadline - 50 && r.ms < DEFAULT_TIMEOUT_MS - 1_000, `${what}: ended at the ${deadline} ms deadline (${Math.round(r.ms)} ms)`)
  }
})

t.test('a bad --command-timeout is a usage error', async (t) => {
  const r = spawnSync(process.execPath, [MAIN, 'serve', '--endpoints', 'http://127.0.0.1:1', '--command-timeout', '5'], { encoding: 'utf8', timeout: 20_000 })
  t.equal(r.status, 2)
  t.match(r.stderr, /--command-timeout: "5" is not a positive duration/)
})
