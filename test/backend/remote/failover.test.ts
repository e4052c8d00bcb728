import t from 'tap'
import { EventType, type Backend, type WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { EtcdError, GrpcCode } from '../../../src/errors.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { etcdMissing, startEtcdCluster, waitHealthy, type RunningServer } from '../../helpers/etcd.js'
import { put, range, watchCreate } from '../../helpers/requests.js'

const REQUEST_TIMEOUT_MS = 3_000
/** 4 × 5 keys; the 20 watches cover them on overlapping prefixes and single keys */
const KEYS = Array.from({ length: 20 }, (_, i) => `f/${Math.floor(i / 5)}/${i % 5}`)
const WATCHES: { key: string; rangeEnd?: string }[] = [
  { key: 'f/', rangeEnd: 'f0' },
  { key: 'f/', rangeEnd: 'f0' },
  ...[0, 1, 2, 3].map((a) => ({ key: `f/${a}/`, rangeEnd: `f/${a}0` })),
  { key: 'f/0/', rangeEnd: 'f/20' },
  { key: 'f/1/', rangeEnd: 'f/30' },
  { key: 'f/2/', rangeEnd: 'f/40' },
  { key: 'f/1/3', rangeEnd: 'f/2/2' },
  ...KEYS.filter((_, i) => i % 2 === 0).map((key) => ({ key })),
]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Failure {
  op: string
  code: number
  message: string
  ms: number
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('kill -9 the leader 3 times, then a follower, under load', async (t) => {
    t.equal(WATCHES.length, 20)
    // Elections well inside the request deadline: with etcd's default 1 s election timeout, two members that
    // split their votes after a kill need another randomized 1–2 s, and a clean-clone run saw reads reach the
    // 3 s deadline that way. What is tested is the gateway's failover, not how long etcd takes to elect.
    const { members } = await startEtcdCluster(3, { flags: ['--heartbeat-interval', '50', '--election-timeout', '500'] })
    t.teardown(() => Promise.all(members.map((m) => m.stop())))
    const backend: Backend = await openRemoteBackend({ endpoints: members.map((m) => m.url), requestTimeoutMs: REQUEST_TIMEOUT_MS })
    t.teardown(() => backend.close())

    async function leader(): Promise<RunningServer> {
      for (;;) {
        for (const m of members) {
          const status = await gw.gateway(m.url, '/v3/maintenance/status', {}).catch(() => undefined)
          if (status && status.json.leader && status.json.leader === status.json.header.member_id) return m
        }
        await sleep(50)
      }
    }

    const lease = (await backend.lease.grant({ ttl: 60, id: 0n })).id
    const startRev = (await backend.kv.put(put({ key: 'f/start', value: '' }))).header.revision
    const seen: WatchResponse[][] = WATCHES.map(() => [])
    const streams = WATCHES.map((w, i) => {
      const stream = backend.watch.open((r) => seen[i]!.push(r))
      stream.send({ kind: 'create', request: watchCreate({ key: w.key, rangeEnd: w.rangeEnd, startRevision: startRev + 1 }) })
      return stream
  })
  t.teardown(() => streams.forEach((s) => s.close()))

  // continuous load: writers, linearizable and serializable readers
  let running = true
  let phase = 'start'
  const failures: (Failure & { phase: string })[] = []
  const acked = new Map<number, { key: string; value: string }>()
  async function loop(op: string, body: (n: number) => Promise<void>) {
    for (let n = 0; running; n++) {
      // a read the replica answers settles without I/O: let timers and sockets have their turn
      await new Promise(setImmediate)
      const started = Date.now()
      try {
        await body(n)
      } catch (err) {
        if (!(err instanceof EtcdError)) throw err
        failures.push({ op, code: err.grpcCode, message: err.message, ms: Date.now() - started, phase })
      }
    }
  }
  const load = [
    ...[0, 1, 2].map((w) =>
      loop('put', async (n) => {
        const key = KEYS[(n * 7 + w * 3) % KEYS.length]!
        const value = `${w}-${n}`
        const res = await backend.kv.put(put({ key, value }))
        acked.set(res.header.revision, { key, value })
      }),
    ),
    loop('range', async () => void (await backend.kv.range(range({ key: 'f/', rangeEnd: 'f0', countOnly: true })))),
    loop('range', async () => void (await backend.kv.range(range({ key: 'f/1/1' })))),
    loop('keepalive', async () => {
      const res = await backend.lease.keepAlive(lease)
      if (res.ttl !== 60) throw new Error(`keepalive answered TTL ${res.ttl}`)
      await sleep(20)
    }),
    loop('serializable range', async () => void (await backend.kv.range(range({ key: 'f/', rangeEnd: 'f0', serializable: true })))),
  ]

  await sleep(500)
  for (let round = 1; round <= 3; round++) {
    const victim = await leader()
    phase = `leader kill ${round}`
    await victim.kill('SIGKILL')
    await sleep(3_000)
    phase = `restart after leader kill ${round}`
    await victim.restart()
    await waitHealthy(victim.url)
    await sleep(500)
  }
  const lead = await leader()
  const follower = members.find((m) => m !== lead)!
  phase = 'follower kill'
  await follower.kill('SIGKILL')
  await sleep(2_000)
  phase = 'follower restart'
  await follower.restart()
  await waitHealthy(follower.url)
  await sleep(500)
  running = false
  await Promise.all(load)
  for (const m of members) await waitHealthy(m.url)
  t.pass('every member healthy again after the restarts')

  const endRev = (await backend.kv.put(put({ key: 'f/end', value: '' }))).header.revision
  const deadline = Date.now() + 10_000
  const history = await committedHistory(members[0]!.url, startRev + 1, endRev)

  for (let i = 0; i < WATCHES.length; i++) {
    const w = WATCHES[i]!
    const expected = history.filter((e) => covers(w, e.key))
    const events = () =>
      seen[i]!.flatMap((r) =>
        r.events
          .filter((e) => e.kv.modRevision < endRev)
          .map((e) => ({ type: e.type, key: e.kv.key.toString(), rev: e.kv.modRevision, value: e.kv.value.toString() })),
      )
    while (events().length < expected.length && Date.now() < deadline) await sleep(50)
    t.same(events(), expected, `watch ${i} (${w.key}..${w.rangeEnd ?? ''}): the committed history, no gap, no duplicate`)
    t.same(
      seen[i]!.filter((r) => r.created || r.canceled).map((r) => ({ created: r.created, canceled: r.canceled })),
      [{ created: true, canceled: false }],
      `watch ${i}: one created, never canceled`,
    )
  }

  for (const [rev, { key, value }] of acked) {
    const entry = history.find((e) => e.rev === rev)
    if (!entry || entry.key !== key || entry.value !== value) t.fail(`acknowledged put at ${rev} is not in the history`)
  }
  t.ok(acked.size > 100, `${acked.size} puts acknowledged`)
  t.same(failures.filter((f) => f.op !== 'put'), [], 'no read or keepalive failed')
  t.same(failures.filter((f) => f.phase.startsWith('follower')), [], 'no error while a follower was down')
  for (const f of failures.filter((f) => f.op === 'put')) {
    t.equal(f.code, GrpcCode.Unavailable, `failed put: ${f.message} after ${f.ms} ms (${f.phase})`)
    t.ok(f.ms <= REQUEST_TIMEOUT_MS + 500, `failed put ended within the deadline (${f.ms} ms)`)
  }
  t.comment(`failed puts: ${JSON.stringify(failures)}`)
  })
}

function covers(w: { key: string; rangeEnd?: string }, key: string): boolean {
  return w.rangeEnd === undefined ? key === w.key : key >= w.key && key < w.rangeEnd
}

/** What etcd committed, read from etcd's own gateway (a watch replaying history), not through our backend. */
async function committedHistory(url: string, from: number, to: number) {
  const watch = gw.gatewayWatch(url, [{ create_request: { key: gw.b64('f/'), range_end: gw.b64('f0'), start_revision: from } }])
  const deadline = Date.now() + 10_000
  const events = () => watch.responses.flatMap((r) => r.events)
  while (!events().some((e) => e.kv.modRevision >= to) && Date.now() < deadline) await sleep(20)
  watch.close()
  return events()
    .filter((e) => e.kv.modRevision < to)
    .map((e) => ({ type: e.type as EventType, key: e.kv.key.toString(), rev: e.kv.modRevision, value: e.kv.value.toString() }))
}
