/**
 * Who a request is: etcd's token headers and `Authorization: Bearer`, a WebSocket authenticated at its
 * upgrade (header, Sec-WebSocket-Protocol, client certificate), a verified client certificate's CN as
 * the user (etcd#10944), and in remote mode the honest refusal of a certificate identity without a token.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { buildApp } from '../../src/app.js'
import type { Backend } from '../../src/backend/backend.js'
import { openRemoteBackend } from '../../src/backend/remote/index.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { etcdgw } from '../helpers/snapshot-workload.js'
import { makeTestPki, removeTestPki, type TestPki } from '../helpers/tls-certs.js'
import { curlPost } from '../helpers/tls-client.js'
import { openWs } from '../helpers/stream-clients.js'
import { startOurs } from '../helpers/servers.js'
import { AuthSession, b64, ROOT_AND_APP1 } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const users = ROOT_AND_APP1

const created = (frame: string) => JSON.parse(frame) as { result: { created?: boolean; canceled?: boolean; cancel_reason?: string } }
const watchApp = JSON.stringify({ create_request: { key: b64('app/'), range_end: b64('app0') } })
const watchOther = JSON.stringify({ create_request: { key: b64('other') } })

t.test('tokens in headers and on WebSockets', async (t) => {
  const ours = await startOurs(t, { backend: { bcryptCost: 4 } })
  const s = new AuthSession(ours.url)
  await s.run(users)
  const token = s.tokens.get('app1')!
  const put = (headers: Record<string, string>, key = 'app/x') => s.send({ path: '/v3/kv/put', body: { key: b64(key), value: b64('v') }, headers })
  t.match(await put({ authorization: token }), / 200 /, 'Authorization: <token>, as etcd')
  t.match(await put({ authorization: `Bearer ${token}` }), / 200 /, 'Authorization: Bearer <token>, as other tools send it')
  t.match(await put({ authorization: `bearer  ${token}` }), / 200 /)
  t.match(await put({ 'grpc-metadata-token': token }), / 200 /, 'Grpc-Metadata-Token, as etcd')
  t.match(await put({ 'grpc-metadata-token': token, authorization: 'bogus' }), / 200 /, 'the metadata header first, as etcd')
  t.match(await put({ authorization: `Bearer ${token}` }, 'other'), / 403 .*permission denied/)
  t.match(await put({ authorization: 'Bearer bogus' }), / 401 .*invalid auth token/)

  const viaHeader = await openWs(ours.url, '/v3/watch', { headers: { authorization: `Bearer ${token}` } })
  t.teardown(() => viaHeader.close())
  viaHeader.send(watchApp)
  viaHeader.send(watchOther)
  const [a, b] = (await viaHeader.waitFor(2)).map(created)
  t.match(a, { result: { created: true } })
  t.notOk(a!.result.canceled, 'a WebSocket authenticated by its upgrade header watches what its user may read')
  t.match(b, { result: { canceled: true, cancel_reason: 'rpc error: code = PermissionDenied desc = etcdserver: permission denied' } })

  const browser = new WebSocket(ours.url.replace('http', 'ws') + '/v3/watch', ['Bearer', token])
  t.teardown(() => browser.terminate())
  await new Promise((resolve, reject) => browser.once('open', resolve).once('error', reject))
  t.equal(browser.protocol, 'Bearer', 'the server picks "Bearer": the token is not sent back')
  const frames: string[] = []
  browser.on('message', (data: Buffer) => frames.push(data.toString()))
  browser.send(watchApp)
  await new Promise((resolve) => browser.once('message', resolve))
  t.match(created(frames[0]!), { result: { created: true } })
  t.notOk(created(frames[0]!).result.canceled, 'a browser authenticates with the token in Sec-WebSocket-Protocol')

  const anonymous = await openWs(ours.url, '/v3/watch')
  t.teardown(() => anonymous.close())
  anonymous.send(watchApp)
  t.match(created((await anonymous.waitFor(1))[0]!), {
    result: { canceled: true, cancel_reason: 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty' },
  }, 'an upgrade without credentials watches nothing while auth is enabled')

  // a unary RPC over WebSocket acts for the socket's caller too, checked at each request
  const range = (key: string) => JSON.stringify({ key: b64(key) })
  const unary = await openWs(ours.url, '/v3/kv/range', { protocols: ['Bearer', token] })
  t.teardown(() => unary.close())
  unary.send(range('app/x'))
  unary.send(range('other'))
  const [allowed, refused] = await unary.waitFor(2)
  t.match(JSON.parse(allowed!), { kvs: [{ key: b64('app/x') }] }, 'unary over WebSocket with the token: its user reads its keys')
  t.same(JSON.parse(refused!), { error: 'etcdserver: permission denied', message: 'etcdserver: permission denied', code: 7 }, 'and is refused elsewhere')
  const unaryAnonymous = await openWs(ours.url, '/v3/kv/range')
  t.teardown(() => unaryAnonymous.close())
  unaryAnonymous.send(range('app/x'))
  t.same(JSON.parse((await unaryAnonymous.waitFor(1))[0]!), { error: 'etcdserver: user name is empty', message: 'etcdserver: user name is empty', code: 3 })
})

t.test("etcd's own gateway cannot authenticate a WebSocket watch at all", async (t) => {
  const etcd = await startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4'], teardown: t })
  const s = new AuthSession(etcd.url)
  await s.run(ROOT_AND_APP1)
  const token = s.tokens.get('app1')!
  const firstAnswer = async (options: { headers?: Record<string, string>; protocols?: string[] }) => {
    const ws = await openWs(etcd.url, '/v3/watch', options)
    t.teardown(() => ws.close())
    ws.send(watchApp)
    return created((await ws.waitFor(1))[0]!).result.cancel_reason
  }
  t.equal(await firstAnswer({ headers: { authorization: token } }), 'rpc error: code = InvalidArgument desc = etcdserver: user name is empty', 'the upgrade header is not passed on')
  t.equal(await firstAnswer({ protocols: ['Bearer', token] }), 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token', 'the subprotocol token arrives as "Bearer <token>", which etcd refuses')
})

t.test("a token's end ends its watches", async (t) => {
  const ours = await startOurs(t, { backend: { bcryptCost: 4, authTokenTtlSeconds: 1 } })
  const s = new AuthSession(ours.url)
  await s.run(users)
  const ws = await openWs(ours.url, '/v3/watch', { headers: { authorization: s.tokens.get('app1')! } })
  t.teardown(() => ws.close())
  ws.send(watchApp)
  t.notOk(created((await ws.waitFor(1))[0]!).result.canceled)
  // the token lives a second after its last use; its watch ends then
  const [, ended] = (await ws.waitFor(2, 3_000)).map(created)
  t.match(ended, { result: { canceled: true, cancel_reason: 'rpc error: code = Unauthenticated desc = etcdserver: invalid auth token' } })
})

/** Our server on HTTPS with client certificates required, in front of `backend`. */
async function serveMtls(t: Test, pki: TestPki, backend: Backend): Promise<string> {
  const app = buildApp({
    backend,
    maxRequestBytes: 1572864,
    clientCertAuth: true,
    https: {
      cert: readFileSync(pki.server.cert),
      key: readFileSync(pki.server.key),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
  })
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `https://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('client certificates as identities', async (t) => {
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  for (const user of ['app1', 'stranger']) {
    const issued = await etcdgw(['certs', 'issue', 'client', '--user', user, '--dir', pki.dir, '--out-dir', join(pki.dir, 'clients')])
    t.equal(issued.code, 0, issued.stderr)
  }
  const cert = (user: string) => ({ ca: pki.ca, client: { cert: join(pki.dir, 'clients', `${user}.crt`), key: join(pki.dir, 'clients', `${user}.key`) } })
  const put = (key: string) => JSON.stringify({ key: b64(key), value: b64('v') })

  t.test("etcd's own gateway cannot use the certificate's user (etcd#10944)", async (t) => {
    const etcd = await startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4'], tls: { ca: pki.ca, ...pki.server }, teardown: t })
    for (const step of ROOT_AND_APP1.slice(0, 7)) {
      const r = await curlPost(`${etcd.url}${step.path}`, JSON.stringify(step.body ?? {}), cert('app1'))
      t.match(r.stdout, /"header"/, step.path)
    }
    const lost = await curlPost(`${etcd.url}/v3/kv/put`, put('app/cert'), cert('app1'), ['-w', ' %{http_code}'])
    t.match(lost.stdout, /^CommonName of client sending a request against gateway will be ignored and not used as expected\n 400$/, 'etcd 3.4.23 refuses it outright')
  })

  t.test('embedded: the CN is the user, for HTTP and WebSocket', async (t) => {
    const ours = await startOurs(t, { backend: { bcryptCost: 4 } })
    await new AuthSession(ours.url).run(users)
    const url = await serveMtls(t, pki, ours.backend())
    const allowed = await curlPost(`${url}/v3/kv/put`, put('app/cert'), cert('app1'))
    t.match(allowed.stdout, /"revision"/, `curl with app1's certificate acts as app1: ${allowed.stdout}${allowed.stderr}`)
    const denied = await curlPost(`${url}/v3/kv/put`, put('other'), cert('app1'))
    t.match(denied.stdout, /etcdserver: permission denied/, 'and only as app1')
    const stranger = await curlPost(`${url}/v3/kv/put`, put('app/x'), cert('stranger'))
    t.match(stranger.stdout, /etcdserver: permission denied/, 'a CN with no such user may do nothing')
    const withToken = await curlPost(`${url}/v3/auth/user/list`, '{}', cert('app1'), ['-H', 'Authorization: bogus'])
    t.match(withToken.stdout, /invalid auth token/, 'a token, when given, comes before the certificate')

    const ws = new WebSocket(url.replace('https', 'wss') + '/v3/watch', {
      ca: readFileSync(pki.ca),
      cert: readFileSync(cert('app1').client.cert),
      key: readFileSync(cert('app1').client.key),
    })
    t.teardown(() => ws.terminate())
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const frames: string[] = []
    ws.on('message', (data: Buffer) => frames.push(data.toString()))
    ws.send(watchApp)
    ws.send(watchOther)
    while (frames.length < 2) await new Promise((resolve) => ws.once('message', resolve))
    t.notOk(created(frames[0]!).result.canceled, 'a WebSocket with the certificate watches as app1')
    t.match(created(frames[1]!), { result: { canceled: true } })
  })

  t.test('remote: a certificate cannot become an etcd user; a token can', async (t) => {
    const etcd = await startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4'], teardown: t })
    const backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 7_000 })
    t.teardown(() => backend.close())
    const url = await serveMtls(t, pki, backend)
    const putAs = (user: string) => curlPost(`${url}/v3/kv/put`, put('app/x'), cert(user), ['-w', ' %{http_code}'])
    t.match((await putAs('app1')).stdout, / 200$/, 'while etcd has auth disabled there is no user to be: the request goes as it is')
    const session = new AuthSession(etcd.url)
    await session.run(users)
    // etcd's auth state is asked again at most every 2 s
    let refused = await putAs('app1')
    for (const deadline = Date.now() + 5_000; !refused.stdout.endsWith(' 401') && Date.now() < deadline; ) refused = await putAs('app1')
    t.match(refused.stdout, /cannot act as etcd user \\"app1\\".* 401$/, 'once etcd has auth enabled: refused, saying why and what to do')
    const viaToken = await curlPost(`${url}/v3/kv/put`, put('app/x'), cert('app1'), ['-H', `Authorization: ${session.tokens.get('app1')}`])
    t.match(viaToken.stdout, /"revision"/, 'the token goes to etcd, which checks it')
    const ws = new WebSocket(url.replace('https', 'wss') + '/v3/watch', {
      ca: readFileSync(pki.ca),
      cert: readFileSync(cert('app1').client.cert),
      key: readFileSync(cert('app1').client.key),
    })
    t.teardown(() => ws.terminate())
    const frames: string[] = []
    ws.on('message', (d: Buffer) => frames.push(d.toString()))
    ws.on('open', () => ws.send(watchApp))
    await new Promise((resolve) => ws.once('close', resolve))
    // the error frame races the connection's end on TLS: what may arrive is the refusal, nothing else
    t.ok(frames.every((f) => /cannot act as etcd user/.test(f)), `a WebSocket is closed at once: ${frames.join()}`)
  })
})
