/**
 * `etcdgw get|put|del|watch --user`: etcdctl's user flags. The same commands print what etcdctl prints
 * against real etcd with auth enabled; a watch outlives its token by authenticating again.
 */
import { spawn } from 'node:child_process'
import t from 'tap'
import { AuthSession, b64, ROOT_AND_APP1 } from '../helpers/auth-client.js'
import { etcdMissing } from '../helpers/etcd.js'
import { MAIN_JS } from '../helpers/gateway.js'
import { startOurs, startRealEtcd } from '../helpers/servers.js'
import { etcdctl, etcdgw } from '../helpers/snapshot-workload.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

/** Exit code, standard output and the last line of standard error (etcdctl logs retries before its error). */
const outcome = ({ code, stdout, stderr }: { code: number | null; stdout: string; stderr: string }) =>
  `${code} ${stdout}${stderr.trim().split('\n').at(-1) ?? ''}`

t.test('the user flags answer as etcdctl does on real etcd', async (t) => {
  const [etcd, ours] = await Promise.all([startRealEtcd(t), startOurs(t, { backend: { bcryptCost: 4 } })])
  await Promise.all([new AuthSession(etcd.url).run(ROOT_AND_APP1), new AuthSession(ours.url).run(ROOT_AND_APP1)])
  const commands: Array<[args: string[], env?: Record<string, string>]> = [
    [['put', 'app/a', '1', '--user', 'app1:a']],
    [['get', 'app/a', '--user', 'app1', '--password', 'a']],
    [['get', 'app/', '--prefix', '--user', 'app1'], { ETCDCTL_PASSWORD: 'a' }],
    [['get', 'app/a'], { ETCDCTL_USER: 'app1:a' }],
    [['put', 'other', '1', '--user', 'app1:a']],
    [['get', 'app/a', '--user', 'app1:wrong']],
    [['get', 'app/a', '--user', 'nobody:a']],
    [['get', 'app/a']],
    [['del', 'app/a', '--user', 'root:r']],
    [['get', 'app/a', '--user', 'root:r', '-w', 'json']],
  ]
  for (const [args, env] of commands) {
    const [want, got] = await Promise.all([
      etcdctl(['--endpoints', etcd.url.replace('http://', ''), ...args], env),
      etcdgw([...args, '--endpoints', ours.url], env),
    ])
    const norm = (s: string) => s.replace(/"(cluster_id|member_id|raft_term)":"?\d+"?/g, '"$1":0')
    t.equal(norm(outcome(got)), norm(outcome(want)), `etcdgw ${args.join(' ')}${env ? ` (${Object.keys(env).join(', ')})` : ''}`)
  }
})

t.test('--user rules: no password, both passwords, an empty name', async (t) => {
  const endpoint = ['--endpoints', 'http://127.0.0.1:9']
  t.match(outcome(await etcdgw(['get', 'k', '--user', 'app1', ...endpoint])), /^1 Error: --user app1: no password \(give --user app1:PASSWORD, --password or ETCDCTL_PASSWORD\)$/)
  t.match(outcome(await etcdgw(['get', 'k', '--user', 'app1:a', '--password', 'b', ...endpoint])), /^1 Error: --password and a password in --user name:password are both given$/)
  t.match(outcome(await etcdgw(['get', 'k', '--user', ':a', ...endpoint])), /^1 Error: --user: the user name is empty$/)
})

t.test('a watch goes on past its token: etcdgw ends the watch, the CLI authenticates again and resumes', async (t) => {
  const ours = await startOurs(t, { backend: { bcryptCost: 4, authTokenTtlSeconds: 1 } })
  const s = new AuthSession(ours.url)
  await s.run(ROOT_AND_APP1)
  const watcher = spawn(process.execPath, [MAIN_JS, 'watch', 'app/', '--prefix', '--user', 'app1:a', '--endpoints', ours.url], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => void watcher.kill('SIGKILL'))
  let out = ''
  watcher.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
  let err = ''
  watcher.stderr.setEncoding('utf8').on('data', (c: string) => (err += c))
  const seen = async (text: string) => {
    for (const deadline = Date.now() + 10_000; !out.includes(text); ) {
      if (Date.now() > deadline || watcher.exitCode !== null) throw new Error(`the watch did not print ${text} (stdout ${out}, stderr ${err})`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const put = async (key: string, value: string) => {
    // root's token may have expired meanwhile: a fresh one for each put
    await s.send({ path: '/v3/auth/authenticate', body: { name: 'root', password: 'r' }, save: 'root' })
    t.match(await s.send({ path: '/v3/kv/put', body: { key: b64(key), value: b64(value) }, as: 'root' }), / 200 /)
  }
  // the watch is live once a put made after its start shows up
  for (let i = 0; !out.includes('PUT'); i++) {
    await put('app/first', String(i))
    await new Promise((r) => setTimeout(r, 100))
  }
  // two token lifetimes with nothing to renew it: the server ends the watch; a put meanwhile is not lost
  await new Promise((r) => setTimeout(r, 1_200))
  await put('app/while', 'renewing')
  await new Promise((r) => setTimeout(r, 1_200))
  await put('app/after', 'resumed')
  await seen('app/after\nresumed\n')
  t.match(out, /PUT\napp\/while\nrenewing\nPUT\napp\/after\nresumed\n$/, 'every put seen once, in order')
  t.equal(err, '', 'nothing on stderr')
  t.equal(watcher.exitCode, null, 'the watch is still running')
})
