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
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'r' }, save: 'root' },
]
const use: AuthStep = { path: '/v3/auth/user/list', as: 'root' }
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a simple token lives --auth-token-ttl after its last use, on its own member', async (t) => {
  // etcd drops expired tokens once a second: a token ends between TTL and TTL + 1 s after its last use
  const [etcd, ours] = await Promise.all([
    startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4', '--auth-token-ttl', '2'], teardown: t }),
    startOurs(t, { backend: { bcryptCost: 4, authTokenTtlSeconds: 2 } }),
  ])
  const [want, got] = [new AuthSession(etcd.url), new AuthSession(ours.url)]
  t.strictSame(await got.run(setup), await want.run(setup))
  for (let i = 0; i < 4; i++) {
    const [a, b] = await Promise.all([got.send(use), want.send(use)])
    t.equal(a, b, `used again after ${i} s`)
    t.match(a, / 200 /)
    await pause(1_000)
  }
  await pause(2_500)
  const [a, b] = await Promise.all([got.send(use), want.send(use)])
  t.equal(a, b, 'unused for longer than its TTL')
  t.match(a, / 401 .*invalid auth token/)

  const foreign = (from: AuthSession) => ({ ...use, as: undefined, headers: { authorization: from.tokens.get('root')! } })
  await Promise.all([got.send(setup[3]!), want.send(setup[3]!)])
  t.match(await got.send(foreign(want)), / 401 .*invalid auth token/, "etcd's token on etcdgw")
  t.match(await want.send(foreign(got)), / 401 .*invalid auth token/, "etcdgw's token on etcd")
})
