/**
 * Users and roles managed with real etcdctl on a real etcd read the same through etcdgw in remote mode
 * as through etcd's own gateway; each caller's streams carry their own token to etcd.
 */
import t from 'tap'
import { etcdMissing } from '../helpers/etcd.js'
import { etcdctl } from '../helpers/snapshot-workload.js'
import { startOursRemoteWithUpstream } from '../helpers/servers.js'
import { openHttpStream } from '../helpers/stream-clients.js'
import { AuthSession, type AuthStep, b64 } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

t.test('etcdctl manages, etcdgw remote answers as etcd', async (t) => {
  const { ours, upstream } = await startOursRemoteWithUpstream(t, ['--bcrypt-cost', '4'])
  const ctl = async (...args: string[]) => {
    const r = await etcdctl(['--endpoints', upstream.url, ...args])
    t.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`)
  }
  await ctl('user', 'add', 'root:rootpw')
  await ctl('user', 'add', 'app1:app1pw')
  await ctl('role', 'add', 'apps')
  await ctl('role', 'grant-permission', 'apps', '--prefix=true', 'readwrite', 'app/')
  await ctl('role', 'grant-permission', 'apps', 'read', 'config')
  await ctl('user', 'grant-role', 'app1', 'apps')
  await ctl('auth', 'enable')
  await ctl('--user', 'root:rootpw', 'put', 'app/a', '1')

  const steps: AuthStep[] = [
    { path: '/v3/auth/authenticate', body: { name: 'root', password: 'rootpw' }, save: 'root' },
    { path: '/v3/auth/authenticate', body: { name: 'app1', password: 'app1pw' }, save: 'app1' },
    { path: '/v3/auth/user/list', as: 'root' },
    { path: '/v3/auth/role/list', as: 'root' },
    { path: '/v3/auth/user/get', body: { name: 'app1' }, as: 'root' },
    { path: '/v3/auth/role/get', body: { role: 'apps' }, as: 'app1' },
    { path: '/v3/auth/user/list', as: 'app1' },
    { path: '/v3/kv/range', body: { key: b64('app/a') }, as: 'app1' },
    { path: '/v3/kv/range', body: { key: b64('config') }, as: 'app1' },
    { path: '/v3/kv/put', body: { key: b64('config'), value: b64('x') }, as: 'app1' },
    { path: '/v3/kv/range', body: { key: b64('app/a') } },
  ]
  const want = await new AuthSession(upstream.url).run(steps)
  const session = new AuthSession(ours.url)
  t.strictSame(await session.run(steps), want)

  // two identities watching through one gateway: each stream carries its own token upstream
  const app1 = openHttpStream(ours.url, '/v3/watch', session.headersFor('app1'))
  const root = openHttpStream(ours.url, '/v3/watch', session.headersFor('root'))
  t.teardown(() => (app1.close(), root.close()))
  app1.send(JSON.stringify({ create_request: { key: b64('secret') } }))
  root.send(JSON.stringify({ create_request: { key: b64('secret') } }))
  t.match((await app1.waitFor(1))[0], /"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied/, "app1's watch is app1's")
  t.notMatch((await root.waitFor(1))[0], /canceled/, "root's is root's")

  const keepalive = openHttpStream(ours.url, '/v3/lease/keepalive', session.headersFor('app1'))
  t.teardown(() => keepalive.close())
  const grant = await session.send({ path: '/v3/lease/grant', body: { TTL: 60, ID: 7 }, as: 'app1' })
  t.match(grant, / 200 /)
  keepalive.send(JSON.stringify({ ID: 7 }))
  t.match((await keepalive.waitFor(1))[0], /"ID":"7","TTL":"60"/, 'a keepalive with a token')
})
