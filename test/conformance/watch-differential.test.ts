/**
 * Random differential test: the same random writes go to real etcd and to etcdgw while random watchers
 * (ranges, start revisions, filters, prev_kv) are open on both, over WebSocket and HTTP streams; every
 * watcher's complete message sequence must be equal.
 */
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import { eventually } from '../helpers/eventually.js'
import { seededRandom, testSeed } from '../helpers/seeded-random.js'
import { etcdMissing, startOurs, startRealEtcd } from '../helpers/servers.js'
import { b64, normalize, openStream, post, type StreamClient } from '../helpers/stream-clients.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const seed = testSeed('WATCH_DIFF_SEED')

t.test(`random writes and watchers, etcd vs etcdgw (WATCH_DIFF_SEED=${seed})`, async (t) => {
  const [etcd, ours] = await Promise.all([startRealEtcd(t), startOurs(t)])
  const rnd = seededRandom(seed)
  const int = (n: number) => Math.floor(rnd() * n)
  const key = (i: number) => `k${i}`
  const streams: [StreamClient, StreamClient][] = []
  for (const transport of ['ws', 'http', 'ws'] as const) {
    streams.push(await Promise.all([openStream(transport, etcd.url, '/v3/watch'), openStream(transport, ours.url, '/v3/watch')]))
  }
  let rev = 1
  const both = async (path: string, body: unknown) => {
    const [a, b] = await Promise.all([post(etcd.url, path, JSON.stringify(body)), post(ours.url, path, JSON.stringify(body))])
    t.equal(normalize(b.body), normalize(a.body), `${path} ${JSON.stringify(body)}`)
    rev = Number(/"revision":"(\d+)"/.exec(a.body)?.[1] ?? rev)
  }
  for (let op = 0; op < 150; op++) {
    if (op % 10 === 0) {
      const lo = int(8)
      const create: Record<string, unknown> = { key: b64(key(lo)), start_revision: Math.max(1, rev - int(12)) + int(3) }
      const shape = int(3)
      if (shape === 1) create.range_end = b64(key(lo + 1 + int(8 - lo)))
      if (shape === 2) create.range_end = 'AA=='
      const filters = [['NOPUT'], ['NODELETE'], [], []][int(4)]!
      if (filters.length) create.filters = filters
      if (int(2)) create.prev_kv = true
      const [a, b] = streams[int(streams.length)]!
      a.send(JSON.stringify({ create_request: create }))
      b.send(JSON.stringify({ create_request: create }))
    }
    const k = key(int(8))
    switch (int(5)) {
      case 0:
      case 1:
        await both('/v3/kv/put', { key: b64(k), value: b64(`v${op}`), prev_kv: true })
        break
      case 2:
        await both('/v3/kv/deleterange', { key: b64(k) })
        break
      case 3:
        await both('/v3/kv/deleterange', { key: b64(k), range_end: b64(key(int(9))) })
        break
      case 4:
        await both('/v3/kv/txn', {
          success: [
            { request_put: { key: b64(key(0)), value: b64(`t${op}`) } },
            { request_delete_range: { key: b64(key(5)) } },
            { request_put: { key: b64(key(7)), value: b64(`t${op}`) } },
          ],
        })
    }
  }
  // etcd delivers a watcher that starts in the past from its sync loop (every 100 ms), merging the
  // revisions committed meanwhile into one message: message boundaries depend on timing, events do not.
  const byId = (s: StreamClient) => {
    const m = new Map<string, unknown[]>()
    for (const msg of s.messages) {
      const r = JSON.parse(msg).result as { watch_id?: string; events?: unknown[]; header: unknown }
      const id = r.watch_id ?? '0'
      const list = m.get(id) ?? []
      if (r.events) list.push(...r.events)
      else list.push({ ...r, header: undefined })
      m.set(id, list)
    }
    return Object.fromEntries([...m].sort())
  }
  // Both sides deliver at their own pace: wait until each stream's watchers have had the same events for
  // longer than etcd's sync loop takes to send more, or give up and compare what arrived.
  const received = () => JSON.stringify(streams.map((pair) => pair.map((s) => s.messages.length)))
  let before = ''
  await eventually(() => {
    const now = received()
    const settled = now === before
    before = now
    return settled && streams.every(([a, b]) => isDeepStrictEqual(byId(b), byId(a)))
  }, 10_000, 300)
  streams.forEach(([a, b], i) => {
    t.strictSame(byId(b), byId(a), `stream ${i}: every watcher's events`)
    a.close()
    b.close()
  })
})
