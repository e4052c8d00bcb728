/**
 * Simple tokens end as etcd's do: each use gives a token --auth-token-ttl seconds more, an unused one
 * ends; and a simple token is good only on the member that made it (another node's is refused).
 */
import t from 'tap'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { startOurs } from '../helpers/servers.js'
import { AuthSession, type AuthStep } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const setup: AuthStep[] = [
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'r' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/enable' },
]
const authenticate: AuthStep = { path: '/v3/auth/authenticate', body: { name: 'root', password: 'r' }, save: 'root' }
const use: AuthStep = { path: '/v3/auth/user/list', as: 'root' }
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const TTL_S = 4
/** etcd drops expired tokens once a second: a token ends between TTL and TTL + 1 s after its last use. */
const LATEST_END_S = TTL_S + 1

t.test('a simple token lives --auth-token-ttl after its last use, on its own member', async (t) => {
  const [etcd, ours] = await Promise.all([
    startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4', '--auth-token-ttl', String(TTL_S)], teardown: t }),
    startOurs(t, { backend: { bcryptCost: 4, authTokenTtlSeconds: TTL_S } }),
  ])
  const [want, got] = [new AuthSession(etcd.url), new AuthSession(ours.url)]
  const each = <T>(act: (s: AuthSession) => Promise<T>) => Promise.all([act(got), act(want)])
  const [gotSetup, wantSetup] = await each((s) => s.run(setup))
  // Both tokens are made together, then used a second apart: each use reaches its server about a second
  // after the one before, with 3 s to spare. Uses go on until one is sent later than an unused token lives.
  const [gotToken, wantToken] = await each((s) => s.send(authenticate))
  t.strictSame([...gotSetup, gotToken], [...wantSetup, wantToken])
  const authenticated = Date.now()
  for (let i = 1; ; i++) {
    await pause(1_000)
    const sent = Date.now()
    const [a, b] = await each((s) => s.send(use))
    t.equal(a, b, `used again after ${i} s`)
    t.match(a, / 200 /)
    if (sent - authenticated > LATEST_END_S * 1000) break
  }
  await pause((LATEST_END_S + 0.5) * 1000)
  const [a, b] = await each((s) => s.send(use))
  t.equal(a, b, 'unused for longer than its TTL')
  t.match(a, / 401 .*invalid auth token/)

  const foreign = (from: AuthSession) => ({ ...use, as: undefined, headers: { authorization: from.tokens.get('root')! } })
  await each((s) => s.send(authenticate))
  t.match(await got.send(foreign(want)), / 401 .*invalid auth token/, "etcd's token on etcdgw")
  t.match(await want.send(foreign(got)), / 401 .*invalid auth token/, "etcdgw's token on etcd")
})
