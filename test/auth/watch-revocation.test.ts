/**
 * A watch does not outlive its permission (etcd's watches do): when the auth store changes, the watches
 * their user may no longer read end with etcd's error as the cancel reason, and the stream stays
 * usable for what is still allowed. A token that ends (password change) ends the stream's watches.
 */
import t from 'tap'
import { openHttpStream } from '../helpers/stream-clients.js'
import { startOurs } from '../helpers/servers.js'
import { AuthSession, b64 } from '../helpers/auth-client.js'

const result = (line: string) => (JSON.parse(line) as { result: Record<string, unknown> }).result

t.test('revoked permissions end the watches they allowed', async (t) => {
  const ours = await startOurs(t, { backend: { bcryptCost: 4 } })
  const s = new AuthSession(ours.url)
  const root = { as: 'root' }
  await s.run([
    { path: '/v3/auth/user/add', body: { name: 'root', password: 'r' } },
    { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
    { path: '/v3/auth/user/add', body: { name: 'u1', password: 'p' } },
    { path: '/v3/auth/role/add', body: { name: 'prefix' } },
    { path: '/v3/auth/role/add', body: { name: 'key' } },
    { path: '/v3/auth/role/grant', body: { name: 'prefix', perm: { permType: 'READ', key: b64('r/'), range_end: b64('r0') } } },
    { path: '/v3/auth/role/grant', body: { name: 'key', perm: { permType: 'READ', key: b64('x') } } },
    { path: '/v3/auth/user/grant', body: { user: 'u1', role: 'prefix' } },
    { path: '/v3/auth/user/grant', body: { user: 'u1', role: 'key' } },
    { path: '/v3/auth/enable' },
    { path: '/v3/auth/authenticate', body: { name: 'root', password: 'r' }, save: 'root' },
    { path: '/v3/auth/authenticate', body: { name: 'u1', password: 'p' }, save: 'u1' },
  ])
  const stream = openHttpStream(ours.url, '/v3/watch', s.headersFor('u1'))
  t.teardown(() => stream.close())
  stream.send(JSON.stringify({ create_request: { key: b64('r/'), range_end: b64('r0') } }))
  stream.send(JSON.stringify({ create_request: { key: b64('x') } }))
  const created = (await stream.waitFor(2)).map(result)
  t.match(created, [{ watch_id: undefined, created: true }, { watch_id: '1', created: true }], 'both created')

  await s.send({ path: '/v3/auth/role/revoke', body: { role: 'key', key: b64('x') }, ...root })
  const [canceled] = (await stream.waitFor(3)).slice(2).map(result)
  t.match(canceled, { watch_id: '1', canceled: true, cancel_reason: 'rpc error: code = PermissionDenied desc = etcdserver: permission denied' })

  await s.send({ path: '/v3/kv/put', body: { key: b64('r/1'), value: b64('v') }, ...root })
  await s.send({ path: '/v3/kv/put', body: { key: b64('x'), value: b64('v') }, ...root })
  const [event] = (await stream.waitFor(4)).slice(3).map(result)
  t.match(event, { events: [{ kv: { key: b64('r/1') } }] }, 'the watch still allowed goes on; the other sees nothing')
  stream.send(JSON.stringify({ create_request: { key: b64('x') } }))
  t.match(result((await stream.waitFor(5))[4]!), { watch_id: '-1', canceled: true }, 'a new watch of x is refused')

  await s.send({ path: '/v3/auth/user/changepw', body: { name: 'u1', password: 'q' }, ...root })
  t.match(result((await stream.waitFor(6))[5]!), {
    watch_id: undefined,
    canceled: true,
    cancel_reason: 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token',
  }, 'the token ended: so do its watches')
  t.equal((await stream.waitFor(7, 200)).length, 6, 'nothing more')
})
