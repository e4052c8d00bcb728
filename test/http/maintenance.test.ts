import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { Errors } from '../../src/errors.js'
import type { Backend } from '../../src/backend/backend.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { saveSnapshot } from '../../src/cli/snapshot.js'
import { restoreSnapshot } from '../../src/snapshot/restore.js'
import { snapshotStatus } from '../../src/snapshot/status.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')

async function openApp(t: Test, opts: { quotaBackendBytes?: number; dataDir?: string } = {}) {
  const dir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'etcdgw-maint-'))
  const backend = await openEmbeddedBackend({
    dataDir: dir,
    name: 'node1',
    maxTxnOps: 128,
    quotaBackendBytes: opts.quotaBackendBytes,
    clientUrls: ['http://127.0.0.1:2379'],
  })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await app.close()
    await backend.close()
  }
  t.teardown(async () => {
    await close()
    rmSync(dir, { recursive: true, force: true })
  })
  const post = async (path: string, body: unknown = {}) => {
    const res = await app.inject({ method: 'POST', url: path, payload: JSON.stringify(body) })
    return { status: res.statusCode, json: res.json(), headers: res.headers }
  }
  return { app, backend, dir, post, close }
}

type Post = Awaited<ReturnType<typeof openApp>>['post']

const status = async (post: Post) => (await post('/v3/maintenance/status')).json

t.test('status, hash, member list and version have etcd\'s shapes', async (t) => {
  const { app, post } = await openApp(t)
  const s = await status(post)
  t.same(Object.keys(s), ['header', 'version', 'dbSize', 'leader', 'raftIndex', 'raftTerm', 'raftAppliedIndex', 'dbSizeInUse'])
  t.equal(s.leader, s.header.member_id, 'a single member leads itself')
  t.match(s.dbSize, /^\d+$/)
  t.ok(Number(s.dbSizeInUse) <= Number(s.dbSize))

  const h = (await post('/v3/maintenance/hash', { revision: '5' })).json
  t.type(h.hash, 'number', 'hash is a JSON number (uint32)')
  t.equal((await app.inject({ method: 'POST', url: '/v3/maintenance/hashkv', payload: '{}' })).statusCode, 404, 'no hashkv in 3.4')

  const list = (await post('/v3/cluster/member/list')).json
  t.same(list.members, [{ ID: s.header.member_id, name: 'node1', clientURLs: ['http://127.0.0.1:2379'] }])
  t.notOk('revision' in list.header, 'cluster headers have no revision')
  for (const [path, body] of [
    ['/v3/cluster/member/add', { peerURLs: ['http://127.0.0.1:2380'] }],
    ['/v3/cluster/member/remove', { ID: s.header.member_id }],
    ['/v3/cluster/member/promote', { ID: s.header.member_id }],
  ] as const) {
    const r = await post(path, body)
    t.equal(r.status, 412, path)
    t.match(r.json.message, /single member/)
  }
  t.equal((await post('/v3/cluster/member/remove', { ID: '5' })).status, 404, 'unknown member')
  t.same((await post('/v3/maintenance/transfer-leadership', { targetID: s.header.member_id })).json, {})
  const bad = await post('/v3/maintenance/transfer-leadership', { targetID: '5' })
  t.same([bad.status, bad.json.message], [412, 'etcdserver: bad leader transferee'])

  const v = await app.inject({ method: 'GET', url: '/version' })
  t.equal(v.headers['content-type'], 'application/json')
  t.match(v.json(), { etcdserver: '3.4.23', etcdcluster: '3.4.0', etcdgw: /^\d+\.\d+\.\d+/ })
})

t.test('NOSPACE: a tiny quota, writes refused, reads and deletes work, recovery as on etcd', async (t) => {
  const { app, post } = await openApp(t, { quotaBackendBytes: 300_000 })
  const value = Buffer.alloc(30_000, 7).toString('base64')
  const codes: number[] = []
  for (let i = 0; i < 20; i++) codes.push((await post('/v3/kv/put', { key: b64(`k${i}`), value })).status)
  const firstRefused = codes.indexOf(429)
  t.ok(firstRefused > 3, `some puts fit (${codes.join(',')})`)
  t.ok(codes.slice(firstRefused).every((c) => c === 429), 'then every put is refused')

  const put = await post('/v3/kv/put', { key: b64('x'), value: b64('y') })
  t.same([put.status, put.json], [429, { error: 'etcdserver: mvcc: database space exceeded', message: 'etcdserver: mvcc: database space exceeded', code: 8 }])
  const memberId = (await status(post)).header.member_id
  t.same((await post('/v3/maintenance/alarm')).json, { alarms: [{ memberID: memberId, alarm: 'NOSPACE' }] })
  t.same((await status(post)).errors, [`memberID:${memberId} alarm:NOSPACE `])
  const health = await app.inject({ method: 'GET', url: '/health' })
  t.same([health.statusCode, health.body], [503, '{"health":"false"}\n'])
  t.equal((await post('/v3/kv/txn', { success: [{ request_put: { key: b64('x'), value: b64('y') } }] })).status, 429)
  t.equal((await post('/v3/kv/range', { key: b64('k0') })).status, 200, 'reads work')
  t.equal((await post('/v3/kv/txn', { success: [{ request_range: { key: b64('k0') } }] })).status, 200, 'read-only txn works')

  const del = await post('/v3/kv/deleterange', { key: b64('k'), range_end: b64('l') })
  t.equal(del.json.deleted, String(firstRefused), 'deletes work')
  const rev = del.json.header.revision
  t.equal((await post('/v3/kv/compaction', { revision: rev, physical: true })).status, 200)
  const deactivate = { action: 'DEACTIVATE', memberID: memberId, alarm: 'NOSPACE' }
  // as etcd: clearing the alarm before the file shrinks only raises it again at the next put
  t.same((await post('/v3/maintenance/alarm', deactivate)).json, { alarms: [{ memberID: memberId, alarm: 'NOSPACE' }] })
  t.equal((await post('/v3/kv/put', { key: b64('x'), value })).status, 429)
  const before = Number((await status(post)).dbSize)
  t.same((await post('/v3/maintenance/defragment')).json, {})
  const after = Number((await status(post)).dbSize)
  t.ok(after < before / 4, `defragment shrinks the file (${before} → ${after})`)
  await post('/v3/maintenance/alarm', deactivate)
  t.equal((await post('/v3/kv/put', { key: b64('x'), value: b64('y') })).status, 200, 'writes work again')
  t.same((await post('/v3/maintenance/alarm')).json, {})
  t.equal((await app.inject({ method: 'GET', url: '/health' })).body, '{"health":"true"}')
})

t.test('CORRUPT: writes get 500 code 15, reads work; alarms survive a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-maint-'))
  const first = await openApp(t, { dataDir: dir })
  await first.post('/v3/kv/put', { key: b64('a'), value: b64('1') })
  t.same((await first.post('/v3/maintenance/alarm', { action: 'ACTIVATE', memberID: '5', alarm: 'CORRUPT' })).json, {
    alarms: [{ memberID: '5', alarm: 'CORRUPT' }],
  })
  await first.close()
  const { post } = await openApp(t, { dataDir: dir })
  for (const [path, body] of [
    ['/v3/kv/put', { key: b64('a'), value: b64('2') }],
    ['/v3/kv/deleterange', { key: b64('a') }],
    ['/v3/kv/compaction', { revision: '2' }],
  ] as const) {
    const r = await post(path, body)
    t.same([r.status, r.json.code, r.json.message], [500, 15, 'etcdserver: corrupt cluster'], path)
  }
  t.equal((await post('/v3/kv/range', { key: b64('a') })).json.kvs[0].value, b64('1'))
  t.same((await status(post)).errors, ['memberID:5 alarm:CORRUPT '])
})

async function listen(app: Awaited<ReturnType<typeof openApp>>['app']): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
}

t.test('defragment keeps data and hash; snapshot → restore keeps every key, value and revision', async (t) => {
  const { app, post, backend } = await openApp(t)
  const value = Buffer.alloc(3000, 1).toString('base64')
  for (let i = 0; i < 200; i++) await post('/v3/kv/put', { key: b64(`key${i % 50}`), value: b64(`v${i}`) + value })
  await post('/v3/kv/deleterange', { key: b64('key4'), range_end: b64('key5') })
  const all = async (b: Backend | Post) => {
    const r = typeof b === 'function' ? (await b('/v3/kv/range', { key: 'AA==', range_end: 'AA==' })).json : undefined
    return r
  }
  const hashBefore = (await post('/v3/maintenance/hash')).json.hash
  const dataBefore = await all(post)
  t.same((await post('/v3/maintenance/defragment')).json, {})
  t.equal((await post('/v3/maintenance/hash')).json.hash, hashBefore, 'defragment keeps the hash')
  t.same(await all(post), dataBefore, 'and the data')
  t.equal((await post('/v3/kv/put', { key: b64('after'), value: b64('defrag') })).status, 200, 'writes go on')
  const hash = (await post('/v3/maintenance/hash')).json.hash
  const data = await all(post)

  const url = await listen(app)
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-snap-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const file = join(tmp, 'snap.db')
  const progress: number[] = []
  const size = await saveSnapshot(url, file, (done, total) => progress.push(total - done))
  t.ok(size > 32 * 1024, `several chunks (${size} bytes)`)
  t.equal(progress.at(-1), 0)
  const st = snapshotStatus(file)
  t.equal(st.revision, Number(data.header.revision))

  const restored = join(tmp, 'restored')
  const flags = { name: 'default', initialCluster: 'default=http://localhost:2380', initialClusterToken: 'etcd-cluster', skipHashCheck: false }
  const ids = await restoreSnapshot(file, { ...flags, dataDir: restored })
  await t.rejects(restoreSnapshot(file, { ...flags, dataDir: restored }), /exists/)
  const copy = await openApp(t, { dataDir: restored })
  const again = await all(copy.post)
  t.same(again.kvs, data.kvs, 'every key, value and revision')
  t.equal(again.header.revision, data.header.revision)
  t.equal(again.header.member_id, BigInt.asUintN(64, ids.memberId).toString(), 'new member ID')
  t.not(again.header.cluster_id, data.header.cluster_id, 'new cluster ID')
  t.equal((await copy.post('/v3/maintenance/hash')).json.hash, hash)

  const damaged = readFileSync(file)
  damaged[damaged.length - 1]! ^= 1
  writeFileSync(join(tmp, 'bad.db'), damaged)
  await t.rejects(restoreSnapshot(join(tmp, 'bad.db'), { ...flags, dataDir: join(tmp, 'r2') }), /sha256 mismatch/)
  void backend
})

t.test('snapshot stream framing: 32 KiB chunks with remaining_bytes, then the sha256 message', async (t) => {
  const { app, post } = await openApp(t)
  for (let i = 0; i < 30; i++) await post('/v3/kv/put', { key: b64(`k${i}`), value: Buffer.alloc(4000, i).toString('base64') })
  const res = await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}' })
  t.equal(res.headers['content-type'], 'application/json')
  t.equal(res.headers['grpc-metadata-content-type'], 'application/grpc')
  const lines = res.body.split('\n')
  t.equal(lines.pop(), '', 'every message ends with a newline')
  const msgs = lines.map((l) => JSON.parse(l).result as { remaining_bytes?: string; blob: string })
  const blobs = msgs.map((m) => Buffer.from(m.blob, 'base64'))
  const data = Buffer.concat(blobs.slice(0, -1))
  t.ok(blobs.slice(0, -2).every((b) => b.length === 32 * 1024))
  let remaining = data.length
  for (const [i, m] of msgs.slice(0, -1).entries()) {
    remaining -= blobs[i]!.length
    t.equal(Number(m.remaining_bytes ?? 0), remaining)
  }
  t.notOk('remaining_bytes' in msgs.at(-1)!)
  const { createHash } = await import('node:crypto')
  t.same(blobs.at(-1), createHash('sha256').update(data).digest())

  // beyond etcd: asked for application/octet-stream, the same snapshot as the file etcdctl writes
  for (const accept of ['application/octet-stream', 'application/json;q=0.5, Application/Octet-Stream;q=1']) {
    const raw = await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}', headers: { accept } })
    t.equal(raw.statusCode, 200)
    t.equal(raw.headers['content-type'], 'application/octet-stream', accept)
    t.equal(Number(raw.headers['content-length']), data.length + 32)
    t.same(raw.rawPayload, Buffer.concat(blobs), 'the db bytes, then their sha256')
  }
  const other = await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}', headers: { accept: 'application/json' } })
  t.equal(other.headers['content-type'], 'application/json', 'any other Accept gets etcd\'s JSON lines')
})

t.test('a snapshot of many page buffers, as its file and as JSON lines: the same bytes, each as hashed when made', async (t) => {
  const { app, post, dir } = await openApp(t)
  // ~12 MB of pages: many more page buffers than a stream keeps to reuse
  for (let i = 0; i < 30; i++) {
    const puts = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: b64(`k${i}/${j}`), value: Buffer.alloc(4000, i + j).toString('base64') } }))
    await post('/v3/kv/txn', { success: puts })
  }
  const raw = await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}', headers: { accept: 'application/octet-stream' } })
  const lines = await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}' })
  const blobs = lines.body.trim().split('\n').map((l) => Buffer.from(JSON.parse(l).result.blob as string, 'base64'))
  t.ok(raw.rawPayload.length > 8 * 2 ** 20, `${raw.rawPayload.length} bytes`)
  t.same(raw.rawPayload, Buffer.concat(blobs), 'the same bytes both ways')
  const data = raw.rawPayload.subarray(0, -32)
  const { createHash } = await import('node:crypto')
  // a page buffer reused before its bytes were sent would send other bytes than were hashed
  t.same(raw.rawPayload.subarray(-32), createHash('sha256').update(data).digest(), 'the sha256 of the bytes sent')
  const file = join(dir, '..', `${dir.split('/').pop()}.db`)
  t.teardown(() => rmSync(file, { force: true }))
  writeFileSync(file, data)
  const { snapshotRange } = await import('../../src/snapshot/get.js')
  const got = snapshotRange(file, { key: Buffer.from('k'), rangeEnd: Buffer.from('l'), revision: 0, keysOnly: false })
  t.equal(got.kvs.length, 3000)
  const wrong = got.kvs.filter((kv) => {
    const [i, j] = kv.key.toString().slice(1).split('/').map(Number)
    return !kv.value.equals(Buffer.alloc(4000, i! + j!))
  })
  t.same(wrong.map((kv) => kv.key.toString()), [], 'every value reads back from the file')
})

t.test('a snapshot that fails after its start, asked for as its file: the response is cut short', async (t) => {
  const { backend } = await openApp(t)
  const maintenance = Object.assign(Object.create(backend.maintenance) as Backend['maintenance'], {
    async *snapshot() {
      yield { remainingBytes: 100_000, blob: Buffer.alloc(32 * 1024, 1) }
      throw Errors.snapshotChanged(3, 2)
    },
  })
  const failing: Backend = Object.assign(Object.create(backend) as Backend, { maintenance, as: () => failing })
  const app = buildApp({ backend: failing, maxRequestBytes: 1572864 })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const { request } = await import('node:http')
  const got = await new Promise<{ length: number; received: number; cut: boolean }>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v3/maintenance/snapshot', headers: { accept: 'application/octet-stream' } }, (res) => {
      let received = 0
      const done = (cut: boolean) => resolve({ length: Number(res.headers['content-length']), received, cut })
      res.on('data', (c: Buffer) => (received += c.length))
      res.on('aborted', () => done(true))
      res.on('error', () => done(true))
      res.on('end', () => done(false))
    })
    req.on('error', reject)
    req.end('{}')
  })
  t.equal(got.length, 32 * 1024 + 100_000 + 32, 'the whole length announced')
  t.ok(got.cut, 'the response ends cut short')
  t.equal(got.received, 32 * 1024, 'after the bytes sent before the failure')
})

t.test('a client that leaves a snapshot asked for as its file ends the stream and its read transaction', async (t) => {
  const { app, post } = await openApp(t)
  for (let i = 0; i < 30; i++) {
    const puts = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: b64(`k${i}/${j}`), value: Buffer.alloc(4000, j).toString('base64') } }))
    await post('/v3/kv/txn', { success: puts })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const openReads = async () => {
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
    return Number(/^etcd_mvcc_db_open_read_transactions (\d+)/m.exec(text)?.[1])
  }
  const { request } = await import('node:http')
  await new Promise<void>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/v3/maintenance/snapshot', headers: { accept: 'application/octet-stream' } }, (res) => {
      res.once('data', () => {
        res.destroy()
        resolve()
      })
    })
    req.on('error', reject)
    req.end('{}')
  })
  let open = await openReads()
  for (let i = 0; i < 200 && open !== 0; i++) {
    await new Promise((r) => setTimeout(r, 25))
    open = await openReads()
  }
  t.equal(open, 0, 'the stream ended: no read transaction left open')
})

t.test('snapshots asked for at once take turns and each comes out whole, the same file', async (t) => {
  const { app, post } = await openApp(t)
  // more rows than the writer handles in one step, so the streams' steps interleave
  for (let i = 0; i < 100; i++) {
    const puts = Array.from({ length: 100 }, (_, j) => ({ request_put: { key: b64(`k${i}/${j}`), value: b64('v'.repeat(100)) } }))
    await post('/v3/kv/txn', { success: puts })
  }
  const bodies = await Promise.all(
    Array.from({ length: 4 }, async () => (await app.inject({ method: 'POST', url: '/v3/maintenance/snapshot', payload: '{}' })).body),
  )
  const { createHash } = await import('node:crypto')
  for (const body of bodies) {
    const blobs = body.trim().split('\n').map((l) => Buffer.from(JSON.parse(l).result.blob as string, 'base64'))
    const data = Buffer.concat(blobs.slice(0, -1))
    t.same(blobs.at(-1), createHash('sha256').update(data).digest(), 'whole, its sha256 checks')
  }
  t.ok(bodies.every((b) => b === bodies[0]), 'the same file each time')
})

t.test('/health, /livez, /readyz methods and bodies; /metrics parses as Prometheus text', async (t) => {
  const { app, post } = await openApp(t)
  const h = await app.inject({ method: 'GET', url: '/health' })
  t.same([h.statusCode, h.headers['content-type'], h.body], [200, 'text/plain; charset=utf-8', '{"health":"true"}'])
  for (const method of ['HEAD', 'POST'] as const) {
    const r = await app.inject({ method, url: '/health' })
    t.equal(r.statusCode, 405, method)
  }
  t.equal((await app.inject({ method: 'GET', url: '/livez' })).body, 'ok')
  t.equal((await app.inject({ method: 'GET', url: '/readyz' })).body, 'ok')
  await post('/v3/kv/put', { key: b64('a'), value: b64('1') })
  await post('/v3/kv/range', { key: b64('a') })
  const m = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const samples = new Map<string, number>()
  const types = new Map<string, string>()
  for (const line of m.body.split('\n')) {
    if (line === '') continue
    const typeLine = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (typeLine) {
      types.set(typeLine[1]!, typeLine[2]!)
      continue
    }
    if (line.startsWith('# HELP ')) continue
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line)
    t.ok(sample, `a Prometheus sample line: ${line}`)
    if (sample) samples.set(sample[1]! + (sample[2] ?? ''), Number(sample[3]))
  }
  t.equal(samples.get('etcd_server_has_leader'), 1)
  t.equal(samples.get('etcd_server_is_leader'), 1)
  t.equal(samples.get('etcd_mvcc_put_total'), 1)
  t.equal(samples.get('etcd_mvcc_range_total'), 1)
  t.ok(samples.get('etcd_mvcc_db_total_size_in_bytes')! > 0)
  t.equal(types.get('etcdgw_http_request_duration_seconds'), 'histogram')
  t.ok(samples.has('etcdgw_http_request_duration_seconds_count{route="/v3/kv/put",method="POST",code="200"}'))
  t.equal(samples.get('etcdgw_watches_open'), 0)
  t.ok(types.has('process_cpu_user_seconds_total'), 'process metrics')
})
