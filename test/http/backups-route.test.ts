/**
 * GET /backups and POST /backups/verify (src/http/routes/backups.ts): the backups of a directory as
 * `etcdgw backup list -w json` shows them, verification again with etcd-shaped errors for a bad request, an
 * unknown backup and a damaged file, and verification off the event loop (a put answers meanwhile).
 */
import { mkdtempSync, openSync, rmSync, writeSync, closeSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { dirStore } from '../../src/backup/backup-store.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { etcdgw } from '../helpers/snapshot-workload.js'

const dir = mkdtempSync(join(tmpdir(), 'etcdgw-backups-route-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const backups = join(dir, 'backups')
const backend = await openEmbeddedBackend({ dataDir: join(dir, 'data'), name: 'default', maxTxnOps: 128 })
const app = buildApp({ backend, maxRequestBytes: 1572864, backups: [dirStore(backups)] })
const url = await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(async () => {
  await app.close()
  await backend.close()
})

const post = (path: string, body: unknown) => fetch(`${url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) })
const put = (key: string, value: string | Buffer) => post('/v3/kv/put', { key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') })

t.test('GET /backups lists what `etcdgw backup list -w json` lists', async (t) => {
  t.same(await (await fetch(`${url}/backups`)).json(), { backups: [] }, 'none yet')
  await put('a', '1')
  const taken = await etcdgw(['backup', 'now', '--gateway', url, '--dir', backups])
  t.equal(taken.code, 0, taken.stderr)
  const res = await fetch(`${url}/backups`)
  t.equal(res.status, 200)
  t.match(res.headers['content-type' as never] ?? res.headers.get('content-type'), /^application\/json/)
  const listed = (await res.json()) as { backups: Array<Record<string, unknown>> }
  const cli = await etcdgw(['backup', 'list', '--dir', backups, '-w', 'json'])
  t.same(listed.backups, JSON.parse(cli.stdout), 'the same as the CLI')
  t.match(listed.backups[0], { where: 'dir', verified: true, revision: 2 })
})

t.test('POST /backups/verify: latest or a name; bad bodies and unknown names in etcd shape', async (t) => {
  const ok = await post('/backups/verify', { name: 'latest' })
  t.equal(ok.status, 200)
  const { copies } = (await ok.json()) as { copies: Array<Record<string, unknown>> }
  t.match(copies, [{ store: backups, revision: 2 }])
  for (const body of ['', '{', '[]', '{"name":""}', '{"name":7}']) {
    const bad = await post('/backups/verify', body)
    t.equal(bad.status, 400, `body ${JSON.stringify(body)}`)
    t.same(await bad.json(), {
      error: 'etcdgw: POST /backups/verify takes {"name": "<backup name>"} or {"name": "latest"}',
      message: 'etcdgw: POST /backups/verify takes {"name": "<backup name>"} or {"name": "latest"}',
      code: 3,
    })
  }
  const unknown = await post('/backups/verify', { name: 'snapshot-20000101-000000.db' })
  t.equal(unknown.status, 404)
  t.match(await unknown.json(), { message: `backup: no backup named snapshot-20000101-000000.db in ${backups}`, code: 5 })
})

t.test('a damaged backup fails verification with what is wrong', async (t) => {
  const [{ paths }] = ((await (await fetch(`${url}/backups`)).json()) as { backups: Array<{ paths: string[] }> }).backups as [{ paths: string[] }]
  const file = paths[0]!
  const fd = openSync(file, 'r+')
  writeSync(fd, Buffer.from('damage'), 0, 6, statSync(file).size - 100)
  closeSync(fd)
  const res = await post('/backups/verify', { name: 'latest' })
  t.equal(res.status, 500)
  t.match(await res.json(), { message: /^snapshot: /, code: 15 })
  t.match(((await (await fetch(`${url}/backups`)).json()) as { backups: unknown[] }).backups, [{ verified: true }], 'the listing still shows its record')
})

t.test('verification runs off the event loop: a put answers while a large backup is verified', async (t) => {
  // ~40 MB of revisions: verifying them takes far longer than a put
  const value = Buffer.alloc(64 * 1024, 'v')
  for (let i = 0; i < 600; i++) await put(`big/${i}`, value)
  const taken = await etcdgw(['backup', 'now', '--gateway', url, '--dir', backups])
  t.equal(taken.code, 0, taken.stderr)
  const order: string[] = []
  const verifying = post('/backups/verify', { name: 'latest' }).then(async (res) => {
    order.push(`verified ${res.status}`)
  })
  await new Promise((r) => setTimeout(r, 50))
  await put('during', 'verification')
  order.push('put')
  await verifying
  t.same(order, ['put', 'verified 200'])
})

t.test('with auth on, the backup routes are root\'s, as /v3/maintenance/snapshot is', async (t) => {
  for (const [path, body] of [
    ['/v3/auth/user/add', { name: 'root', password: 'rootpw' }],
    ['/v3/auth/user/grant', { user: 'root', role: 'root' }],
    ['/v3/auth/user/add', { name: 'app', password: 'apppw' }],
    ['/v3/auth/enable', {}],
  ] as const) t.equal((await post(path, body)).status, 200, path)
  const tokenOf = async (name: string, password: string) => ((await (await post('/v3/auth/authenticate', { name, password })).json()) as { token: string }).token
  const [rootToken, appToken] = [await tokenOf('root', 'rootpw'), await tokenOf('app', 'apppw')]
  const list = (token?: string) => fetch(`${url}/backups`, { headers: token ? { authorization: `Bearer ${token}` } : {} })
  const anonymous = await list()
  t.equal(anonymous.status, 400)
  t.match(await anonymous.json(), { message: 'etcdserver: user name is empty' })
  const app = await list(appToken)
  t.equal(app.status, 403)
  t.match(await app.json(), { message: 'etcdserver: permission denied' })
  t.equal((await list(rootToken)).status, 200, 'root lists them')
  const verify = await fetch(`${url}/backups/verify`, { method: 'POST', body: '{"name":"latest"}', headers: { authorization: `Bearer ${appToken}` } })
  t.equal(verify.status, 403, 'and only root verifies')
})
