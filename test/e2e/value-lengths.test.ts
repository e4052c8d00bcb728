/**
 * Every value length a client can write reads back byte-identical through every read path: range,
 * range at a past revision, txn range, watch with prev_kv (live and replayed from history) and a
 * snapshot restored into a new store. Lengths: every one from 0 to 1,024, powers of two and their
 * neighbours up to 1 MiB, and the largest value --max-request-bytes lets through (found by bisection,
 * with the next byte refused as etcd refuses it).
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { send } from '../helpers/http.js'
import { MAIN, startServe } from '../helpers/serve-process.js'
import { openWs } from '../helpers/stream-clients.js'

interface Kv {
  key: string
  value?: string
  mod_revision: string
}
interface WatchResult {
  result: { events?: { kv: Kv; prev_kv?: Kv }[] }
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')
const keyOf = (n: number) => b64(`k/${String(n).padStart(8, '0')}`)
const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16)

async function call<T>(url: string, path: string, body: unknown): Promise<T> {
  const res = await send(url, path, JSON.stringify(body))
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.body.slice(0, 200)}`)
  return JSON.parse(res.body) as T
}

const valueOf = (kv: Kv | undefined) => Buffer.from(kv?.value ?? '', 'base64')

function cli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  )
}

t.test('values of every length read back byte-identical on every read path', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-lengths-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const server = await startServe(t, ['--data-dir', join(tmp, 'data'), '--listen-client-urls', 'http://127.0.0.1:0'])
  const url = server.url

  // the largest value a put of a key as long as k/<n> may carry: accepted at `lo`, refused as etcd refuses at `hi`
  let lo = 1 << 20
  let hi = 1572864
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1
    const res = await send(url, '/v3/kv/put', JSON.stringify({ key: b64('p/00000000'), value: Buffer.alloc(mid, 0x61).toString('base64') }))
    if (res.status === 200) lo = mid
    else {
      t.match(res.body, /etcdserver: request is too large/, `a ${mid}-byte value is refused with etcd's error`)
      hi = mid
    }
  }
  const lengths = new Set<number>()
  for (let n = 0; n <= 1024; n++) lengths.add(n)
  for (let p = 11; p <= 20; p++) for (const d of [-1, 0, 1]) lengths.add(2 ** p + d)
  lengths.add(lo)
  const values = new Map<number, Buffer>()
  for (const n of lengths) values.set(n, randomBytes(n))

  // a watch on `v` from before the writes: every put of `v` comes with the value it replaced
  const live = await openWs(url, '/v3/watch')
  live.send(JSON.stringify({ create_request: { key: b64('v'), prev_kv: true } }))
  await live.waitFor(1)

  // each length is put as key k/<n> (its own key) and as v (the same key each time, so each put replaces the last)
  const putRev = new Map<number, number>()
  for (const [n, value] of values) {
    await call(url, '/v3/kv/put', { key: keyOf(n), value: value.toString('base64') })
    const res = await call<{ header: { revision: string } }>(url, '/v3/kv/put', { key: b64('v'), value: value.toString('base64') })
    putRev.set(n, Number(res.header.revision))
  }

  const mismatches: string[] = []
  const expect = (what: string, n: number, got: Buffer) => {
    const want = values.get(n)!
    if (got.equals(want)) return
    mismatches.push(`${what} of length ${n}: got ${got.length} bytes (${digest(got)}), want ${digest(want)}`)
    // a broken read path breaks every length: stop at the first few
    if (mismatches.length >= 10) throw new Error(`values read back wrong:\n${mismatches.join('\n')}`)
  }
  for (const n of lengths) {
    const one = await call<{ kvs?: Kv[] }>(url, '/v3/kv/range', { key: keyOf(n) })
    expect('range', n, valueOf(one.kvs?.[0]))
    const past = await call<{ kvs?: Kv[] }>(url, '/v3/kv/range', { key: b64('v'), revision: String(putRev.get(n)) })
    expect('range at a past revision', n, valueOf(past.kvs?.[0]))
    const txn = await call<{ responses: { response_range: { kvs?: Kv[] } }[] }>(url, '/v3/kv/txn', {
      success: [{ request_range: { key: keyOf(n) } }],
    })
    expect('txn range', n, valueOf(txn.responses[0]?.response_range.kvs?.[0]))
  }
  // many values in one answer: every key up to 1 KiB long
  const small = await call<{ kvs: Kv[] }>(url, '/v3/kv/range', { key: keyOf(0), range_end: keyOf(1025) })
  t.equal(small.kvs.length, 1025, 'one range answers every short value')
  small.kvs.forEach((kv, n) => expect('range of many keys', n, valueOf(kv)))

  const order = [...putRev.keys()]
  const eventsOf = (messages: string[]) => messages.map((m) => JSON.parse(m) as WatchResult).flatMap((m) => m.result.events ?? [])
  const checkWatch = (what: string, messages: string[]) => {
    const events = eventsOf(messages)
    t.equal(events.length, order.length, `${what}: one event per put of v`)
    events.forEach((e, i) => {
      expect(`${what} kv`, order[i]!, valueOf(e.kv))
      if (i > 0) expect(`${what} prev_kv`, order[i - 1]!, valueOf(e.prev_kv))
    })
  }
  const liveMessages = await live.waitFor(1 + order.length, 30_000)
  live.close()
  checkWatch('live watch', liveMessages.slice(1))
  // the same events replayed from history, by a watch created after the writes
  const replay = await openWs(url, '/v3/watch')
  replay.send(JSON.stringify({ create_request: { key: b64('v'), prev_kv: true, start_revision: String(putRev.get(order[0]!)) } }))
  // the replay comes in batches of events, as many messages as the server cuts it into: wait for every event
  const deadline = Date.now() + 30_000
  while (eventsOf(replay.messages.slice(1)).length < order.length && Date.now() < deadline) {
    await replay.waitFor(replay.messages.length + 1, deadline - Date.now())
  }
  replay.close()
  checkWatch('replayed watch', replay.messages.slice(1))

  // a snapshot, restored into a new data dir and served, answers the same values
  const file = join(tmp, 'snap.db')
  await cli(['snapshot', 'save', file, '--endpoints', url])
  await cli(['snapshot', 'restore', file, '--data-dir', join(tmp, 'restored')])
  server.child.kill('SIGTERM')
  const restored = await startServe(t, ['--data-dir', join(tmp, 'restored'), '--listen-client-urls', 'http://127.0.0.1:0'])
  for (const n of lengths) {
    const one = await call<{ kvs?: Kv[] }>(restored.url, '/v3/kv/range', { key: keyOf(n) })
    expect('range after snapshot restore', n, valueOf(one.kvs?.[0]))
  }
  restored.child.kill('SIGTERM')

  t.same(mismatches, [], `${lengths.size} lengths up to ${lo} bytes read back byte-identical`)
})
