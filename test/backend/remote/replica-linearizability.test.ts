/**
 * Reads from the replica are never stale: writers go to etcd directly (its own JSON gateway) and through
 * a second gateway, readers through the first; every read must see every write acknowledged before the
 * read started. The run kills the leader (SIGKILL) under load, so the moments around failover are in it;
 * a watch through the same gateway must see the committed history with no gap and no duplicate. A
 * replica of some prefixes is checked the same way, on its kept keys and on others, while keys it does not
 * keep move the cluster's revision on.
 */
import t, { type Test } from 'tap'
import type { Backend, WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { etcdMissing, startEtcdCluster, waitHealthy, type RunningServer } from '../../helpers/etcd.js'
import { put, range, watchCreate } from '../../helpers/requests.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { replicaAnswers } from '../../helpers/replica-answering.js'

const REQUEST_TIMEOUT_MS = 3_000
const DIRECT_WRITERS = 3
const READERS = 4
const MIN_READS = 100
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

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
  t.ok(await replicaAnswers(readGateway), "the reading gateway's replica answers")

  async function leader(): Promise<RunningServer> {
    for (;;) {
      for (const m of members) {
        const status = await gw.gateway(m.url, '/v3/maintenance/status', {}).catch(() => undefined)
        if (status?.json.leader && status.json.leader === status.json.header.member_id) return m
      }
      await sleep(50)
    }
  }

  /**
   * Writers to etcd directly (one key each, under `prefix`), one through the second gateway, and readers of
   * `prefix` through `reader` while `during` runs; every read must see every write acknowledged before it started.
   */
  async function checkReads(t: Test, reader: Backend, prefix: string, during: () => Promise<void>) {
    const [key, rangeEnd] = [prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)]
    /** per key: the highest revision a write of it was acknowledged at */
    const acked = new Map<string, number>()
    const ack = (key: string, rev: number) => acked.set(key, Math.max(acked.get(key) ?? 0, rev))
    const stale: string[] = []
    const readFailures: string[] = []
    let reads = 0
    let running = true

    const directWriter = async (w: number) => {
      const key = `${prefix}direct/${w}`
      for (let n = 0, at = w; running; n++) {
        const res = await gw.gateway(endpoints[at % endpoints.length]!, '/v3/kv/put', { key: gw.b64(key), value: gw.b64(String(n)) }).catch(() => undefined)
        if (res?.status === 200) ack(key, Number(res.json.header.revision))
        // a member that failed (or is down) is left for the next one
        else at++
      }
    }
    const gatewayWriter = async () => {
      const key = `${prefix}gateway`
      for (let n = 0; running; n++) {
        const res = await writeGateway.kv.put(put({ key, value: String(n) })).catch(() => undefined)
        if (res) ack(key, res.header.revision)
      }
    }
    const readLoop = async () => {
      while (running) {
        // let acknowledgements arrive between reads, as they would between a client's requests
        await new Promise(setImmediate)
        const mustSee = new Map(acked)
        let res
        try {
          res = await reader.kv.range(range({ key, rangeEnd }))
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
      ...Array.from({ length: READERS }, readLoop),
    ]
    await during()
    // the load goes on until enough reads were checked, however slow the machine is today
    const deadline = Date.now() + 30_000
    while (reads < MIN_READS && Date.now() < deadline) await sleep(50)
    running = false
    await Promise.all(load)

    t.ok(reads >= MIN_READS, `${reads} reads checked`)
    t.ok(acked.size === DIRECT_WRITERS + 1, 'every writer had writes acknowledged')
    t.same(stale, [], 'no read missed a write acknowledged before it started')
    t.same(readFailures, [], 'no read failed')
  }

  t.test('every read sees every write acknowledged before it started, across a leader kill', async (t) => {
    const startRev = (await writeGateway.kv.put(put({ key: 'lin/start', value: '' }))).header.revision
    const watched: WatchResponse[] = []
    const watch = readGateway.watch.open((r) => watched.push(r))
    watch.send({ kind: 'create', request: watchCreate({ key: 'lin/', rangeEnd: 'lin0', startRevision: startRev + 1 }) })
    t.teardown(() => watch.close())

    await checkReads(t, readGateway, 'lin/', async () => {
      await sleep(1_000)
      const victim = await leader()
      await victim.kill('SIGKILL')
      await sleep(2_000)
      await victim.restart()
      await waitHealthy(victim.url)
      await sleep(1_000)
    })

    const endRev = (await writeGateway.kv.put(put({ key: 'lin/end', value: '' }))).header.revision
    const events = () => watched.flatMap((r) => r.events.map((e) => e.kv.modRevision))
    const deadline = Date.now() + 10_000
    while (!events().includes(endRev) && Date.now() < deadline) await sleep(20)
    const revs = events()
    t.same(revs, [...new Set(revs)].sort((a, b) => a - b), 'watch events in revision order, no duplicate')
    t.same(revs, Array.from({ length: endRev - startRev }, (_, i) => startRev + 1 + i), 'one event for every revision: no gap')
    t.same(watched.filter((r) => r.canceled), [], 'the watch was never canceled')
  })

  t.test('a replica of some prefixes: reads of kept keys and of others, while other keys are written', async (t) => {
    const prefixed: Backend = await openRemoteBackend({
      endpoints,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      replica: { prefixes: [Buffer.from('kept/')] },
    })
    t.teardown(() => prefixed.close())
    t.ok(await replicaAnswers(prefixed), 'its replica answers')
    // the cluster's revision moves on with keys the replica does not keep, and reads of those go to etcd
    let running = true
    const otherWriter = (async () => {
      for (let n = 0; running; n++) await gw.gateway(endpoints[n % endpoints.length]!, '/v3/kv/put', { key: gw.b64('other/k'), value: gw.b64(String(n)) }).catch(() => undefined)
    })()
    await checkReads(t, prefixed, 'kept/', () => sleep(2_000))
    await checkReads(t, prefixed, 'notkept/', () => sleep(1_000))
    running = false
    await otherWriter
  })
}
