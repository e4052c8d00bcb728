/**
 * The auth store travels in snapshots as etcd keeps it (the auth, authUsers and authRoles buckets): an
 * etcdgw snapshot restored by etcdctl serves the same users, roles and passwords on real etcd, and an
 * etcd snapshot restored by etcdgw does on the embedded store. It also survives a restart.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { etcdMissing, startEtcd, startRestoredEtcd } from '../helpers/etcd.js'
import { startGateway } from '../helpers/gateway.js'
import { etcdctl, etcdgw } from '../helpers/snapshot-workload.js'
import { startOurs } from '../helpers/servers.js'
import { AuthSession, type AuthStep, b64 } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const setup: AuthStep[] = [
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'rootpw' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/user/add', body: { name: 'app1', password: 'app1pw' } },
  { path: '/v3/auth/user/add', body: { name: 'bot', options: { no_password: true } } },
  { path: '/v3/auth/role/add', body: { name: 'apps' } },
  { path: '/v3/auth/role/grant', body: { name: 'apps', perm: { permType: 'READWRITE', key: b64('app/'), range_end: b64('app0') } } },
  { path: '/v3/auth/role/grant', body: { name: 'apps', perm: { permType: 'READ', key: b64('config') } } },
  { path: '/v3/auth/user/grant', body: { user: 'app1', role: 'apps' } },
  { path: '/v3/kv/put', body: { key: b64('app/x'), value: b64('1') } },
  { path: '/v3/auth/enable' },
]

/** What a restored store answers: who exists, what they may do, and that passwords still work. */
const check: AuthStep[] = [
  { path: '/v3/kv/range', body: { key: b64('app/x') } },
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'wrong' } },
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'rootpw' }, save: 'root' },
  { path: '/v3/auth/authenticate', body: { name: 'app1', password: 'app1pw' }, save: 'app1' },
  { path: '/v3/auth/user/list', as: 'root' },
  { path: '/v3/auth/user/get', body: { name: 'app1' }, as: 'root' },
  { path: '/v3/auth/role/get', body: { role: 'apps' }, as: 'root' },
  { path: '/v3/kv/range', body: { key: b64('app/x') }, as: 'app1' },
  { path: '/v3/kv/range', body: { key: b64('config') }, as: 'app1' },
  { path: '/v3/kv/put', body: { key: b64('config'), value: b64('2') }, as: 'app1' },
  { path: '/v3/auth/authenticate', body: { name: 'bot', password: '' } },
]

/** Answers without the header's revision (a restored etcd counts differently) and ids. */
const strip = (lines: string[]) => lines.map((l) => l.replace(/"header":\{[^}]*\}/, '"header":H'))

t.test('the auth store in snapshots, both ways, and across a restart', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-auth-snap-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const etcd = await startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4'], teardown: t })
  const ours = await startOurs(t, { backend: { bcryptCost: 4 } })
  await new AuthSession(etcd.url).run(setup)
  await new AuthSession(ours.url).run(setup)
  const want = strip(await new AuthSession(etcd.url).run(check))
  t.match(want[2], /^\/v3\/auth\/authenticate 200 /)
  t.strictSame(strip(await new AuthSession(ours.url).run(check)), want, 'etcdgw answers as etcd')

  await ours.restart()
  t.strictSame(strip(await new AuthSession(ours.url).run(check)), want, 'after a restart')

  t.test('etcdgw → etcd', async (t) => {
    const file = join(tmp, 'etcdgw.db')
    const chunks: Buffer[] = []
    for await (const chunk of ours.backend().maintenance.snapshot()) chunks.push(chunk.blob)
    writeFileSync(file, Buffer.concat(chunks))
    const dataDir = join(tmp, 'etcd-restored')
    const restored = await etcdctl(['snapshot', 'restore', file, '--data-dir', dataDir])
    t.equal(restored.code, 0, restored.stderr)
    const restoredEtcd = await startRestoredEtcd(dataDir, t, async (url) => (await fetch(url + '/health')).status === 200)
    t.strictSame(strip(await new AuthSession(restoredEtcd.url).run(check)), want)
  })

  t.test('etcd → etcdgw', async (t) => {
    const file = join(tmp, 'etcd.db')
    const saved = await etcdctl(['snapshot', 'save', file, '--endpoints', etcd.url, '--user', 'root:rootpw'])
    t.equal(saved.code, 0, saved.stderr)
    const dataDir = join(tmp, 'etcdgw-restored')
    const restored = await etcdgw(['snapshot', 'restore', file, '--data-dir', dataDir])
    t.equal(restored.code, 0, restored.stderr)
    const gw = await startGateway({ teardown: t, flags: ['--data-dir', dataDir, '--bcrypt-cost', '4'] })
    t.strictSame(strip(await new AuthSession(gw.url).run(check)), want)
  })
})
