import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { send } from '../helpers/http.js'
import { openStream, type Transport } from '../helpers/stream-clients.js'

/** A server on a loopback port (real HTTP, so WebSocket upgrades and raw bytes work). */
async function startServer(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-text-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128 })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await app.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return url
}

/** POST in text mode, the answer parsed (with its status). */
async function text(url: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await send(url, `${path}?encoding=utf8`, typeof body === 'string' ? body : JSON.stringify(body))
  return { status: r.status, json: JSON.parse(r.body) }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

t.test('keys and values as UTF-8 both ways; base64 mode unchanged', async (t) => {
  const url = await startServer(t)
  t.equal((await text(url, '/v3/kv/put', { key: 'héllo/1', value: 'wörld ✓' })).status, 200)
  const got = await text(url, '/v3/kv/range', { key: 'héllo/1' })
  t.same(got.json.kvs.map((kv: any) => [kv.key, kv.value]), [['héllo/1', 'wörld ✓']])
  const base = JSON.parse((await send(url, '/v3/kv/range', JSON.stringify({ key: b64('héllo/1') }))).body)
  t.equal(base.kvs[0].value, b64('wörld ✓'), 'the same data in base64 without the switch')
  const explicit = await send(url, '/v3/kv/range?encoding=base64', JSON.stringify({ key: b64('héllo/1') }))
  t.equal(explicit.body, (await send(url, '/v3/kv/range', JSON.stringify({ key: b64('héllo/1') }))).body)

  const prev = await text(url, '/v3/kv/put', { key: 'héllo/1', value: 'v2', prev_kv: true })
  t.equal(prev.json.prev_kv.value, 'wörld ✓', 'prev_kv in text')
  const escaped = await text(url, '/v3/kv/put', '{"key":"tab\\there","value":"\\u00e9\\"q\\""}')
  t.equal(escaped.status, 200)
  const back = await text(url, '/v3/kv/range', { key: 'tab\there' })
  t.equal(back.json.kvs[0].value, 'é"q"', 'JSON escapes read and written')
})

t.test('"prefix": true stands for range_end on range, deleterange, txn compares and nested ops', async (t) => {
  const url = await startServer(t)
  for (const k of ['app/a', 'app/b', 'apq', 'b']) await text(url, '/v3/kv/put', { key: k, value: k.toUpperCase() })
  const list = await text(url, '/v3/kv/range', { key: 'app/', prefix: true, keys_only: true })
  t.same(list.json.kvs.map((kv: any) => kv.key), ['app/a', 'app/b'])
  t.equal(list.json.count, '2')
  const all = await text(url, '/v3/kv/range', { key: '', prefix: true, count_only: true })
  t.equal(all.json.count, '4', 'an empty prefix is every key')

  const txn = await text(url, '/v3/kv/txn', {
    compare: [{ key: 'app/', prefix: true, target: 'VERSION', result: 'GREATER', version: 0 }],
    success: [
      { request_range: { key: 'app/', prefix: true } },
      { request_txn: { success: [{ request_delete_range: { key: 'app/', prefix: true, prev_kv: true } }] } },
    ],
  })
  t.equal(txn.json.succeeded, true)
  t.same(txn.json.responses[0].response_range.kvs.map((kv: any) => kv.value), ['APP/A', 'APP/B'])
  const nested = txn.json.responses[1].response_txn.responses[0].response_delete_range
  t.equal(nested.deleted, '2')
  t.same(nested.prev_kvs.map((kv: any) => kv.key), ['app/a', 'app/b'], 'prev_kvs of a nested op in text')

  const both = await text(url, '/v3/kv/deleterange', { key: 'a', prefix: true, range_end: 'b' })
  t.equal(both.status, 400)
  t.same(both.json, {
    error: 'etcdgw: "prefix" and "range_end" cannot be given together',
    message: 'etcdgw: "prefix" and "range_end" cannot be given together',
    code: 3,
  })
  const ignored = JSON.parse((await send(url, '/v3/kv/range', JSON.stringify({ key: b64('ap'), prefix: true }))).body)
  t.equal(ignored.kvs, undefined, 'base64 mode keeps etcd\'s rules: "prefix" is an unknown field there')
})

t.test('bytes that are not UTF-8: a {"base64"} marker out, accepted back in; bad text refused', async (t) => {
  const url = await startServer(t)
  const raw = Buffer.from([0x66, 0xff, 0x00, 0xc3])
  await send(url, '/v3/kv/put', JSON.stringify({ key: raw.toString('base64'), value: raw.toString('base64') }))
  const got = await text(url, '/v3/kv/range', { key: { base64: raw.toString('base64') } })
  t.same(got.json.kvs[0].key, { base64: 'Zv8Aww==' }, 'key marker')
  t.same(got.json.kvs[0].value, { base64: 'Zv8Aww==' }, 'value marker')

  const again = await text(url, '/v3/kv/put', { key: got.json.kvs[0].key, value: got.json.kvs[0].value, prev_kv: true })
  t.same(again.json.prev_kv.value, { base64: 'Zv8Aww==' }, 'the marker round-trips as the same bytes')
  const base = JSON.parse((await send(url, '/v3/kv/range', JSON.stringify({ key: 'Zv8Aww==' }))).body)
  t.equal(base.kvs[0].value, 'Zv8Aww==')
  t.equal(base.kvs[0].version, '2')

  const invalid = Buffer.concat([Buffer.from('{"key":"a\xff', 'latin1'), Buffer.from('","value":"x"}')])
  const refused = await send(url, '/v3/kv/put?encoding=utf8', invalid)
  t.equal(refused.status, 400)
  t.equal(JSON.parse(refused.body).message, 'etcdgw: a string in a ?encoding=utf8 request is not valid UTF-8')

  const wrongType = await text(url, '/v3/kv/put', { key: 5, value: 'x' })
  t.equal(wrongType.status, 400)
  t.match(wrongType.json.message, /a bytes field is a string or \{"base64":"\.\.\."\}, not number/)

  const unknown = await send(url, '/v3/kv/range?encoding=latin1', '{"key":"YQ=="}')
  t.equal(unknown.status, 400)
  t.equal(JSON.parse(unknown.body).message, 'etcdgw: unknown encoding "latin1" (use ?encoding=utf8, or base64, the default)')
})

t.test('lease keys in text', async (t) => {
  const url = await startServer(t)
  const lease = await text(url, '/v3/lease/grant', { TTL: 60 })
  await text(url, '/v3/kv/put', { key: 'lëase/1', value: 'x', lease: lease.json.ID })
  await send(url, '/v3/kv/put', JSON.stringify({ key: '/w==', value: 'eA==', lease: lease.json.ID }))
  const ttl = await text(url, '/v3/lease/timetolive', { ID: lease.json.ID, keys: true })
  t.same(ttl.json.keys, ['lëase/1', { base64: '/w==' }])
})

for (const transport of ['ws', 'http'] as Transport[]) {
  t.test(`watch in text mode over ${transport}`, async (t) => {
    const url = await startServer(t)
    const stream = await openStream(transport, url, '/v3/watch?encoding=utf8')
    t.teardown(() => stream.close())
    stream.send(JSON.stringify({ create_request: { key: 'wätch/', prefix: true, prev_kv: true } }))
    await stream.waitFor(1)
    await text(url, '/v3/kv/put', { key: 'wätch/1', value: 'one' })
    await text(url, '/v3/kv/put', { key: 'wätch/1', value: 'two' })
    await text(url, '/v3/kv/put', { key: 'other', value: 'no' })
    await text(url, '/v3/kv/deleterange', { key: 'wätch/', prefix: true })
    await send(url, '/v3/kv/put', JSON.stringify({ key: b64('wätch/'), value: '/w==' }))
    const messages = await stream.waitFor(5)
    const events = messages.slice(1).map((m) => JSON.parse(m).result.events[0])
    t.same(
      events.map((e: any) => [e.type ?? 'PUT', e.kv.key, e.kv.value, e.prev_kv?.value]),
      [
        ['PUT', 'wätch/1', 'one', undefined],
        ['PUT', 'wätch/1', 'two', 'one'],
        ['DELETE', 'wätch/1', undefined, 'two'],
        ['PUT', 'wätch/', { base64: '/w==' }, undefined],
      ],
    )
  })
}

t.test('a base64 and a text watcher of the same key each get their own encoding', async (t) => {
  const url = await startServer(t)
  const plain = await openStream('ws', url, '/v3/watch')
  const textual = await openStream('ws', url, '/v3/watch?encoding=utf8')
  t.teardown(() => (plain.close(), textual.close()))
  plain.send(JSON.stringify({ create_request: { key: b64('k') } }))
  textual.send(JSON.stringify({ create_request: { key: 'k' } }))
  await Promise.all([plain.waitFor(1), textual.waitFor(1)])
  await text(url, '/v3/kv/put', { key: 'k', value: 'v' })
  const [p, x] = await Promise.all([plain.waitFor(2), textual.waitFor(2)])
  t.equal(JSON.parse(p[1]!).result.events[0].kv.value, b64('v'))
  t.equal(JSON.parse(x[1]!).result.events[0].kv.value, 'v')
})

t.test('an unknown encoding on a watch stream is refused', async (t) => {
  const url = await startServer(t)
  const r = await send(url, '/v3/watch?encoding=hex', '{"create_request":{"key":"YQ=="}}')
  t.equal(r.status, 400)
  t.match(JSON.parse(r.body).message, /unknown encoding "hex"/)
  const ws = await openStream('ws', url, '/v3/watch?encoding=hex')
  t.equal(await ws.closed, 1006, 'the socket closes after the error frame')
  t.match(JSON.parse(ws.messages[0]!).message, /unknown encoding "hex"/)
})
