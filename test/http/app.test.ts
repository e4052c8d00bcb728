import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'

const cors = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-headers': 'accept, content-type, authorization',
}

async function openApp(t: Test, maxRequestBytes = 1572864) {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-app-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128 })
  const app = buildApp({ backend, maxRequestBytes })
  t.teardown(async () => {
    await app.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return app
}

/** A raw HTTP request, path sent as is (inject would resolve dot segments). */
function rawRequest(port: number, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(method === 'POST' ? '{}' : undefined)
  })
}

const b64 = (n: number) => Buffer.alloc(n, 'x').toString('base64')

t.test('unary success: etcd headers, compact JSON, any content type', async (t) => {
  const app = await openApp(t)
  const put = await app.inject({ method: 'POST', url: '/v3/kv/put', payload: '{"key":"Zm9v","value":"YmFy"}' })
  t.equal(put.statusCode, 200)
  t.match(put.body, /^\{"header":\{"cluster_id":"\d+","member_id":"\d+","revision":"2","raft_term":"\d+"\}\}$/)
  t.match(put.headers, { ...cors, 'content-type': 'application/json', 'grpc-metadata-content-type': 'application/grpc' })
  t.equal(put.headers['content-length'], String(put.body.length))
  for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/x-protobuf', 'application/json; charset=utf-8', 'foo', undefined]) {
    const r = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: '{"key":"Zm9v"}', headers: type ? { 'content-type': type } : {} })
    t.equal(r.statusCode, 200, `content-type ${type}`)
    t.match(r.body, /"kvs":\[\{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"\}\],"count":"1"\}$/)
  }
  for (const url of ['/v3beta/kv/range', '/v3/kv/range?x=1', '/v3beta/kv/range?a=b', '/v3/kv/%72ange', '/v3%2Fkv/range']) {
    const r = await app.inject({ method: 'POST', url, payload: '{"key":"Zm9v"}' })
    t.match(r.body, /"count":"1"/, url)
  }
  const trailing = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: '{"key":"Zm9v"} xyz' })
  t.match(trailing.body, /"count":"1"/, 'text after the first value is ignored')
})

t.test('every KV route answers through the backend', async (t) => {
  const app = await openApp(t)
  const post = async (url: string, payload: string) => (await app.inject({ method: 'POST', url, payload })).body
  await post('/v3/kv/put', '{"key":"YQ==","value":"eA=="}')
  t.match(await post('/v3/kv/txn', '{"compare":[{"key":"YQ==","target":"VALUE","value":"eA=="}],"success":[{"request_put":{"key":"Yg=="}},{"request_txn":{}}]}'),
    /"succeeded":true,"responses":\[\{"response_put":\{"header":\{"revision":"3"\}\}\},\{"response_txn":\{"header":\{\},"succeeded":true\}\}\]\}$/)
  t.match(await post('/v3/kv/deleterange', '{"key":"YQ==","prev_kv":true}'), /"revision":"4".*"deleted":"1","prev_kvs":\[\{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","value":"eA=="\}\]\}$/)
  t.match(await post('/v3/kv/compaction', '{"revision":3}'), /^\{"header":\{[^}]*"revision":"4"[^}]*\}\}$/)
})

t.test('errors: etcd body, status from the gRPC code, trailer only after the call', async (t) => {
  const app = await openApp(t)
  const decodeError = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: '{"key":1}' })
  t.equal(decodeError.statusCode, 400)
  t.equal(decodeError.body, '{"error":"json: cannot unmarshal number into Go value of type []uint8","message":"json: cannot unmarshal number into Go value of type []uint8","code":3}')
  t.match(decodeError.headers, { ...cors, 'content-type': 'application/json', 'content-length': String(decodeError.body.length) })
  t.notOk(decodeError.headers['grpc-metadata-content-type'])
  t.notOk(decodeError.headers.trailer)

  const backendError = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: '{"key":""}' })
  t.equal(backendError.statusCode, 400)
  t.equal(backendError.body, '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}')
  t.match(backendError.headers, { ...cors, 'content-type': 'application/json', trailer: 'grpc-trailer-content-type', 'transfer-encoding': 'chunked' })
  t.same(backendError.trailers, { 'grpc-trailer-content-type': 'application/grpc' })
  t.notOk(backendError.headers['grpc-metadata-content-type'])

  const empty = await app.inject({ method: 'POST', url: '/v3/kv/range' })
  t.equal(empty.body, '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}', 'empty body = empty request')

  const future = await app.inject({ method: 'POST', url: '/v3/kv/compaction', payload: '{"revision":30}' })
  t.equal(future.statusCode, 400)
  t.equal(future.body, '{"error":"etcdserver: mvcc: required revision is a future revision","message":"etcdserver: mvcc: required revision is a future revision","code":11}')
  const lease = await app.inject({ method: 'POST', url: '/v3/kv/put', payload: '{"key":"YQ==","lease":"5"}' })
  t.equal(lease.statusCode, 404)
  t.equal(lease.body, '{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}')
  const syntax = await app.inject({ method: 'POST', url: '/v3/kv/put', payload: '{"key":<}' })
  t.equal(syntax.body, `{"error":"invalid character '\\u003c' looking for beginning of value","message":"invalid character '\\u003c' looking for beginning of value","code":3}`)
})

t.test('other methods on RPC paths: 405 as Go writes it', async (t) => {
  const app = await openApp(t)
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD'] as const) {
    const r = await app.inject({ method, url: '/v3/kv/put', payload: method === 'GET' || method === 'HEAD' ? undefined : '{}' })
    t.equal(r.statusCode, 405, method)
    t.match(r.headers, { ...cors, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': '19' })
    t.equal(r.body, method === 'HEAD' ? '' : 'Method Not Allowed\n')
  }
  t.equal((await app.inject({ method: 'GET', url: '/v3beta/kv/range' })).statusCode, 405)
})

t.test('OPTIONS: 200, empty, CORS only, on any path', async (t) => {
  const app = await openApp(t)
  for (const url of ['/v3/kv/range', '/v3/nope', '/foo', '//v3/kv/range']) {
    const r = await app.inject({ method: 'OPTIONS', url })
    t.equal(r.statusCode, 200, url)
    t.equal(r.body, '')
    t.match(r.headers, { ...cors, 'content-length': '0' })
    t.notOk(r.headers['content-type'])
  }
})

t.test('404: the gateway under /v3/, Go mux elsewhere; case-sensitive; trailing slash', async (t) => {
  const app = await openApp(t)
  const cases: [string, string][] = [
    ['/v3/', 'Not Found\n'], ['/v3/kv', 'Not Found\n'], ['/v3/kv/', 'Not Found\n'], ['/v3/kv/range/', 'Not Found\n'],
    ['/v3/kv/rangex', 'Not Found\n'], ['/v3beta/', 'Not Found\n'], ['/v3beta/foo', 'Not Found\n'], ['/v3beta/kv/range/', 'Not Found\n'],
    ['/', '404 page not found\n'], ['/foo', '404 page not found\n'], ['/foo/', '404 page not found\n'],
    ['/V3/kv/range', '404 page not found\n'], ['/v3alpha/kv/range', '404 page not found\n'], ['/v3beta', '404 page not found\n'],
    ['/v3betax/kv/range', '404 page not found\n'],
  ]
  for (const [url, body] of cases) {
    const r = await app.inject({ method: 'POST', url, payload: '{"key":"Zm9v"}' })
    t.equal(r.statusCode, 404, url)
    t.equal(r.body, body, url)
    t.match(r.headers, { ...cors, 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
  }
  t.equal((await app.inject({ method: 'GET', url: '/v3/kv/rangex' })).statusCode, 404)
})

t.test('unclean paths: 301 to the cleaned path, as Go ServeMux', async (t) => {
  const app = await openApp(t)
  const cases: [string, string][] = [
    ['//v3/kv/range', '/v3/kv/range'], ['/v3//kv/range?a=b', '/v3/kv/range?a=b'], ['/v3/kv/./range', '/v3/kv/range'],
    ['/v3/kv/../kv/range', '/v3/kv/range'], ['/v3/kv/range/.', '/v3/kv/range'], ['/./v3/kv/range', '/v3/kv/range'],
    ['/v3/kv/range/..', '/v3/kv'], ['/v3/kv/range//', '/v3/kv/range/'], ['/v3beta//kv/range', '/v3/kv/range'],
    ['/v3beta/kv/./range', '/v3/kv/range'], ['/v3', '/v3/'],
  ]
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  for (const [url, location] of cases) {
    const r = await rawRequest(port, 'POST', url)
    t.equal(r.status, 301, url)
    t.equal(r.headers.location, location, url)
    t.equal(r.body, '')
    t.match(r.headers, cors)
  }
  const get = await rawRequest(port, 'GET', '//v3/kv/range')
  t.equal(get.status, 301)
  t.equal(get.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(get.body, '<a href="/v3/kv/range">Moved Permanently</a>.\n\n')
})

t.test('request size limits (etcd started with --max-request-bytes 1024)', async (t) => {
  const app = await openApp(t, 1024)
  const post = (url: string, payload: string) => app.inject({ method: 'POST', url, payload })
  const put = (n: number) => post('/v3/kv/put', `{"key":"YQ==","value":"${b64(n)}"}`)
  t.equal((await put(1001)).statusCode, 200)
  const tooLarge = await put(1010)
  t.equal(tooLarge.statusCode, 400)
  t.equal(tooLarge.body, '{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}')
  t.equal(tooLarge.headers.trailer, 'grpc-trailer-content-type')
  t.equal((await post('/v3/kv/deleterange', `{"key":"${b64(2000)}"}`)).statusCode, 400, 'deleterange is a proposal')
  t.equal((await post('/v3/kv/range', `{"key":"${b64(2000)}"}`)).statusCode, 200, 'range is not a proposal')
  t.equal((await post('/v3/kv/txn', `{"success":[{"request_range":{"key":"${b64(2000)}"}}]}`)).statusCode, 200, 'nor a read-only txn')
  t.equal((await post('/v3/kv/txn', `{"compare":[{"key":"${b64(2000)}"}]}`)).statusCode, 200)
  t.equal((await post('/v3/kv/range', `{"key":"${b64(525306)}"}`)).statusCode, 200)
  const overGrpc = await post('/v3/kv/range', `{"key":"${b64(525310)}"}`)
  t.equal(overGrpc.statusCode, 429)
  t.equal(overGrpc.body, '{"error":"grpc: received message larger than max (525314 vs. 525312)","message":"grpc: received message larger than max (525314 vs. 525312)","code":8}')
  t.equal(overGrpc.headers.trailer, 'grpc-trailer-content-type')
  t.match((await put(2000000)).body, /"grpc: received message larger than max \(2000007 vs. 525312\)"/)
  t.match((await post('/v3/kv/txn', `{"success":[{"request_put":{"key":"YQ==","value":"${b64(600000)}"}}]}`)).body, /\(600015 vs. 525312\)/)
  const huge = await post('/v3/kv/put', ' '.repeat(16 * 1024 * 1024 + 1))
  t.equal(huge.statusCode, 429, 'a body beyond any message size is refused unread')
  t.match(huge.body, /"code":8\}$/)
})
