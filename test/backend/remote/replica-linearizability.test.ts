/**
 * Reads from the replica are never stale: writers go to etcd directly (its own JSON gateway) and through
 * a second gateway, readers through the first; every read must see every write acknowledged before the
 * read started. The run kills the leader (SIGKILL) under load, so the moments around failover are in it;
 * a watch through the same gateway must see the committed history with no gap and no duplicate.
 */
import t from 'tap'
import type { Backend, WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { etcdMissing, startEtcdCluster, waitHealthy, type RunningServer } from '../../helpers/etcd.js'
import { put, range, watchCreate } from '../../helpers/requests.js'
import * as gw from '../../helpers/etcd-json-gateway.js'

const REQUEST_TIMEOUT_MS = 3_000
const DIRECT_WRITERS = 3
const READERS = 4
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const { members } = await startEtcdCluster(3)
  t.teardown(() => Promise.all(members.map((m) => m.stop())))
  const endpoints = members.map((m) => m.url)
  const readGateway: Backend = await openRemoteBackend({ endpoints, requestTimeoutMs: REQUEST_TIMEOUT_MS })
  t.teardown(() => readGateway.close())
  const writeGateway: Backend = await openRemoteBackend({ endpoints, requestTimeoutMs: REQUEST_TIMEOUT_MS })
  t.teardown(() => writeGateway.close())

  async function leader(): Promise<RunningServer> {
    for (;;) {
      for (const m of members) {
        const status = await gw.gateway(m.url, '/v3/maintenance/status', {}).catch(() => undefined)
        if (status?.json.leader && status.json.leader === status.json.header.member_id) return m
      }
      await sleep(50)
    }
  }

  t.test('every read sees every write acknowledged before it started, across a leader kill', async (t) => {
    const startRev = (await writeGateway.kv.put(put({ key: 'lin/start', value: '' }))).header.revision
    const watched: WatchResponse[] = []
    const watch = readGateway.watch.open((r) => watched.push(r))
    watch.send({ kind: 'create', request: watchCreate({ key: 'lin/', rangeEnd: 'lin0', startRevision: startRev + 1 }) })
    t.teardown(() => watch.close())

    /** per key: the highest revision a write of it was acknowledged at */
    const acked = new Map<string, number>()
    const ack = (key: string, rev: number) => acked.set(key, Math.max(acked.get(key) ?? 0, rev))
    const stale: string[] = []
    const readFailures: string[] = []
    let reads = 0
    let running = true

    const directWriter = async (w: number) => {
      const key = `lin/direct/${w}`
      for (let n = 0, at = w; running; n++) {
        const res = await gw.gateway(endpoints[at % endpoints.length]!, '/v3/kv/put', { key: gw.b64(key), value: gw.b64(String(n)) }).catch(() => undefined)
        if (res?.status === 200) ack(key, Number(res.json.header.revision))
        // a member that failed (or is down) is left for the next one
        else at++
      }
    }
    const gatewayWriter = async () => {
      for (let n = 0; running; n++) {
        const res = await writeGateway.kv.put(put({ key: 'lin/gateway', value: String(n) })).catch(() => undefined)
        if (res) ack('lin/gateway', res.header.revision)
      }
    }
    const reader = async () => {
      while (running) {
        // let acknowledgements arrive between reads, as they would between a client's requests
        await new Promise(setImmediate)
        const mustSee = new Map(acked)
        let res
        try {
          res = await readGateway.kv.range(range({ key: 'lin/', rangeEnd: 'lin0' }))
        } catch (err) {
          readFailures.push((err as Error).message)
          continue
        }
        reads++
        const seen = new Map(res.kvs.map((kv) => [kv.key.toString(), kv.modRevision]))
        for (const [key, rev] of mustSee) {
          const got = seen.get(key) ?? 0
          if (got < rev) stale.push(`${key}: read saw revision ${got}, a write at ${rev} was acknowledged before the read started`)
        }
      }
    }
    const load = [
      ...Array.from({ length: DIRECT_WRITERS }, (_, w) => directWriter(w)),
      gatewayWriter(),
      ...Array.from({ length: READERS }, reader),
    ]

    await sleep(1_000)
    const victim = await leader()
    await victim.kill('SIGKILL')
    await sleep(2_000)
    await victim.restart()
    await waitHealthy(victim.url)
    await sleep(1_000)
    running = false
    await Promise.all(load)

    t.ok(reads > 100, `${reads} reads checked`)
    t.ok(acked.size === DIRECT_WRITERS + 1, 'every writer had writes acknowledged')
    t.same(stale, [], 'no read missed a write acknowledged before it started')
    t.same(readFailures, [], 'no read failed')

    const endRev = (await writeGateway.kv.put(put({ key: 'lin/end', value: '' }))).header.revision
    const events = () => watched.flatMap((r) => r.events.map((e) => e.kv.modRevision))
    const deadline = Date.now() + 10_000
    while (!events().includes(endRev) && Date.now() < deadline) await sleep(20)
    const revs = events()
    t.same(revs, [...new Set(revs)].sort((a, b) => a - b), 'watch events in revision order, no duplicate')
    t.same(revs, Array.from({ length: endRev - startRev }, (_, i) => startRev + 1 + i), 'one event for every revision: no gap')
    t.same(watched.filter((r) => r.canceled), [], 'the watch was never canceled')
  })
}
