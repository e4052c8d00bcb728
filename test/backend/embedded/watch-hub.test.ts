import t from 'tap'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { WatchFilter, type WatchResponse } from '../../../src/backend/backend.js'
import type { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { WatchHub } from '../../../src/backend/embedded/watch-hub.js'
import { openTestStore, putKey } from '../../helpers/embedded-store.js'
import { watchCreate } from '../../helpers/requests.js'

function hubOn(store: MvccStore) {
  const hub = new WatchHub(store, {
    header: (revision) => ({ clusterId: 1n, memberId: 1n, revision, raftTerm: 2 }),
    progressNotifyIntervalMs: 600_000,
    maxResponseBytes: 2 * 1024 * 1024,
  })
  return hub
}

/** A watch stream on the hub, collecting what it is sent; `until(check)` resolves once check() holds. */
function streamOn(hub: WatchHub) {
  const got: WatchResponse[] = []
  const waiters: Array<() => void> = []
  const stream = hub.open((r) => {
    got.push(r)
    waiters.splice(0).forEach((w) => w())
  })
  const until = async (check: () => boolean) => {
    while (!check()) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  const events = () => got.flatMap((r) => r.events)
  return { got, stream, until, events }
}

async function writeMany(store: MvccStore, n: number, key: (i: number) => string): Promise<void> {
  const writes: Promise<number>[] = []
  for (let i = 0; i < n; i++) writes.push(putKey(store, key(i), String(i)))
  await Promise.all(writes)
}

t.test('a watch from the past catches up in steps that let other work run, then continues live with no gap', async (t) => {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 5000, (i) => `k${i % 100}`) // revisions 2..5001
  const { got, stream, until, events } = streamOn(hub)
  t.teardown(() => stream.close())
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', rangeEnd: Buffer.from('l'), startRevision: 2 }) })
  t.equal(got.length, 1, 'created at once')
  await nextTurn()
  const afterOneTurn = events().length
  t.ok(afterOneTurn > 0 && afterOneTurn < 5000, `other work ran while history was being sent (${afterOneTurn} of 5000 events by then)`)
  const live = writeMany(store, 300, (i) => `k${i % 7}`) // written while the watch catches up
  await live
  await until(() => events().length >= 5300)
  const revs = events().map((e) => e.kv.modRevision)
  t.same(revs, Array.from({ length: 5300 }, (_, i) => i + 2), 'every revision once, in order, history then live')
  t.ok(got.slice(1).every((r) => new Set(r.events.map((e) => e.kv.modRevision)).size <= 1000), "at most 1000 revisions per response, as etcd's watchBatchMaxRevs")
})

t.test('a watch on one key reads only that key\'s history: it is live after one step however long the store', async (t) => {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 20_000, (i) => `other${i % 1000}`)
  await putKey(store, 'mine', 'old')
  const watches = Array.from({ length: 200 }, () => streamOn(hub))
  for (const w of watches) {
    t.teardown(() => w.stream.close())
    w.stream.send({ kind: 'create', request: watchCreate({ key: 'mine', startRevision: 1 }) })
  }
  await nextTurn()
  t.ok(
    watches.every((w) => w.events().map((e) => e.kv.value.toString()).join() === 'old'),
    'each has its history after one step',
  )
  await putKey(store, 'mine', 'new')
  t.ok(
    watches.every((w) => w.events().map((e) => e.kv.value.toString()).join() === 'old,new'),
    'and the next write reached all of them as it committed',
  )
})

t.test('a watch whose start is compacted while it catches up is canceled as etcd does', async (t) => {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 5000, (i) => `k${i % 10}`)
  const { got, stream, until } = streamOn(hub)
  t.teardown(() => stream.close())
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', rangeEnd: Buffer.from('l'), startRevision: 2 }) })
  await nextTurn()
  await store.compact(4000)
  await until(() => got.some((r) => r.canceled))
  const canceled = got.find((r) => r.canceled)!
  t.same([canceled.compactRevision, canceled.watchId], [4000, got[0]!.watchId])
})

t.test("etcd's watch counts: streams, watchers, slow (unsynced) watchers and the events sent after filters", async (t) => {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 10, (i) => `c${i}`) // revisions 2..11
  const a = streamOn(hub)
  const b = streamOn(hub)
  t.equal(hub.counts.streams, 2)
  a.stream.send({ kind: 'create', request: watchCreate({ key: 'c', rangeEnd: Buffer.from('d'), startRevision: 2 }) })
  t.same(hub.counts, { streams: 2, watchers: 1, slowWatchers: 1, eventsSent: 0 }, 'a watch from the past is slow until it has caught up')
  await a.until(() => a.events().length === 10)
  t.same(hub.counts, { streams: 2, watchers: 1, slowWatchers: 0, eventsSent: 10 }, 'then synced')
  b.stream.send({ kind: 'create', request: watchCreate({ key: 'c0', filters: [WatchFilter.NOPUT] }) })
  b.stream.send({ kind: 'create', request: watchCreate({ key: 'c1' }) })
  await putKey(store, 'c0', 'x')
  await a.until(() => a.events().length === 11)
  t.equal(hub.counts.eventsSent, 11, "the put reached one watcher: the other's filter took it")
  b.stream.send({ kind: 'cancel', request: { watchId: 1 } })
  t.equal(hub.counts.watchers, 2, 'a canceled watcher leaves')
  b.stream.close()
  t.same(hub.counts, { streams: 1, watchers: 1, slowWatchers: 0, eventsSent: 11 }, 'a closed stream takes its watchers with it')
  a.stream.close()
  t.equal(hub.counts.streams, 0)
})
