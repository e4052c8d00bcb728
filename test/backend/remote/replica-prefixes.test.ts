/**
 * A replica of some prefixes: it loads and keeps only their keys, answers reads and watches wholly inside
 * one of them (shown by answering while etcd is stopped), sends everything else to etcd, and keeps etcd's
 * revisions in its headers, writes to other keys included.
 */
import t from 'tap'
import type { Backend, WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { pauseProcess } from '../../helpers/process.js'
import { put, range, watchCreate } from '../../helpers/requests.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { replicaAnswers } from '../../helpers/replica-answering.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const keys = (res: { kvs: { key: Buffer }[] }) => res.kvs.map((kv) => kv.key.toString())
/** Whether a promise settled within `ms` (a read through etcd cannot while etcd is stopped). */
const settles = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true, () => true), sleep(ms).then(() => false)])

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd({ teardown: t })
  const etcdPut = async (key: string, value: string) =>
    Number((await gw.gateway(etcd.url, '/v3/kv/put', { key: gw.b64(key), value: gw.b64(value) })).json.header.revision)
  for (const key of ['a/1', 'a/2', 'b/1', 'c/1']) await etcdPut(key, 'v0')
  const backend: Backend = await openRemoteBackend({
    endpoints: [etcd.url],
    requestTimeoutMs: 10_000,
    // this etcd never has auth enabled: the replica answers without the auth probe's say, which runs out
    // 2 s after etcd stops answering, so that it answers for as long as etcd is stopped below
    replica: { prefixes: [Buffer.from('a/'), Buffer.from('c/')], answersWhile: () => true },
  })
  t.teardown(() => backend.close())
  t.ok(await replicaAnswers(backend), 'the replica answers')

  await t.test("reads inside and outside the prefixes answer with etcd's data and revision", async (t) => {
    const rev = await etcdPut('b/2', 'v0')
    const inside = await backend.kv.range(range({ key: 'a/', rangeEnd: 'a0' }))
    t.same(keys(inside), ['a/1', 'a/2'])
    t.ok(inside.header.revision >= rev, 'a linearizable read sees the revision of a write to a key not kept')
    t.same(keys(await backend.kv.range(range({ key: 'b/', rangeEnd: 'b0' }))), ['b/1', 'b/2'], 'a prefix not kept: from etcd')
    t.same(keys(await backend.kv.range(range({ key: 'a/', rangeEnd: 'd' }))), ['a/1', 'a/2', 'b/1', 'b/2', 'c/1'], 'a range over several')
    const written = await backend.kv.put(put({ key: 'b/3', value: 'v' }))
    const serializable = await backend.kv.range(range({ key: 'c/1', serializable: true }))
    t.equal(serializable.header.revision, written.header.revision, "the replica's revision follows writes to keys it does not keep")
    const past = await backend.kv.range(range({ key: 'a/1', revision: rev }))
    t.same(keys(past), ['a/1'], 'a past revision the replica holds')
  })

  await t.test('with etcd stopped, only requests wholly inside a kept prefix answer', async (t) => {
    const responses: WatchResponse[] = []
    const stream = backend.watch.open((r) => responses.push(r))
    t.teardown(() => stream.close())
    const resume = pauseProcess(etcd.pid, t)
    const local = await backend.kv.range(range({ key: 'a/', rangeEnd: 'a0', serializable: true }))
    t.same(keys(local), ['a/1', 'a/2'], 'a serializable read inside a prefix')
    stream.send({ kind: 'create', request: watchCreate({ key: 'c/', rangeEnd: 'c0', watchId: 1 }) })
    while (responses.length === 0) await sleep(5)
    t.match(responses[0], { watchId: 1, created: true }, 'a watch inside a prefix is created by the replica')
    const outside = backend.kv.range(range({ key: 'b/1', serializable: true }))
    const across = backend.kv.range(range({ key: 'a/', rangeEnd: 'c0', serializable: true }))
    stream.send({ kind: 'create', request: watchCreate({ key: 'b/', rangeEnd: 'b0', watchId: 2 }) })
    t.notOk(await settles(outside, 300), 'a read of a key not kept waits for etcd')
    t.notOk(await settles(across, 0), 'so does a range leaving the prefix')
    t.equal(responses.length, 1, 'and a watch of keys not kept')
    resume()
    t.same(keys(await outside), ['b/1'])
    t.same(keys(await across), ['a/1', 'a/2', 'b/1', 'b/2', 'b/3', 'c/1'])
    while (responses.length < 2) await sleep(5)
    t.match(responses[1], { watchId: 2, created: true })
  })

  await t.test("a watch inside a prefix sees only its keys' events, at etcd's revisions", async (t) => {
    const responses: WatchResponse[] = []
    const stream = backend.watch.open((r) => responses.push(r))
    t.teardown(() => stream.close())
    stream.send({ kind: 'create', request: watchCreate({ key: 'a/', rangeEnd: 'a0' }) })
    while (responses.length === 0) await sleep(5)
    await etcdPut('b/x', '1')
    const rev = await etcdPut('a/x', '1')
    await etcdPut('c/x', '1')
    while (responses.length < 2) await sleep(5)
    t.same(
      responses[1]!.events.map((e) => [e.kv.key.toString(), e.kv.modRevision]),
      [['a/x', rev]],
    )
    t.equal(responses[1]!.header.revision, rev)
  })

  await t.test("a progress request on a stream with watches on the replica and on etcd comes after every event up to its revision", async (t) => {
    const responses: WatchResponse[] = []
    const stream = backend.watch.open((r) => responses.push(r))
    t.teardown(() => stream.close())
    const answers = () => responses.filter((r) => r.watchId === -1)
    const history: number[] = []
    for (let i = 0; i < 5; i++) history.push(await etcdPut(`a/h${i}`, 'v'))
    // etcd's watch is created upstream; the replica's catches up on a/'s history in later turns
    stream.send({ kind: 'create', request: watchCreate({ key: 'b/', rangeEnd: 'b0', watchId: 1 }) })
    stream.send({ kind: 'create', request: watchCreate({ key: 'a/', rangeEnd: 'a0', watchId: 2, startRevision: history[0] }) })
    stream.send({ kind: 'progress', request: {} })
    while (answers().length === 0) await sleep(5)
    const at = responses.indexOf(answers()[0]!)
    t.ok(answers()[0]!.header.revision >= history[4]!, "at etcd's revision")
    t.same(responses.slice(0, at).filter((r) => r.created).map((r) => r.watchId).sort(), [1, 2], 'after both watches were created, as etcd orders them')
    const seen = (from: number, to?: number) => responses.slice(from, to).flatMap((r) => r.events.map((e) => e.kv.modRevision))
    t.same(seen(0, at), history, "after the replica's watch sent its history")
    const written = await etcdPut('b/p', 'v')
    while ((await backend.kv.range(range({ key: 'a/', serializable: true }))).header.revision < written) await sleep(5)
    stream.send({ kind: 'progress', request: {} })
    while (answers().length === 1) await sleep(5)
    const next = responses.indexOf(answers()[1]!)
    t.ok(answers()[1]!.header.revision >= written, "at etcd's revision")
    t.same(seen(at, next), [written], "after etcd's watch sent the event up to it")
  })
}
