import t, { type Test } from 'tap'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { EventType, WatchFilter, type Event, type WatchResponse } from '../../../src/backend/backend.js'
import type { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { WatchHub } from '../../../src/backend/embedded/watch-hub.js'
import { openTestStore, putKey } from '../../helpers/embedded-store.js'
import { watchCreate } from '../../helpers/requests.js'
import { seededRandom, testSeed } from '../../helpers/seeded-random.js'

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

/** A store holding revisions 2..5001 on the keys k0..k99, and a hub on it. */
async function hubOverHistory(t: Test) {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 5000, (i) => `k${i % 100}`)
  return { store, hub }
}

t.test('a watch from the past catches up in steps that let other work run, then continues live with no gap', async (t) => {
  const { store, hub } = await hubOverHistory(t)
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

/** Counts the rows the store's revisions-table scan hands out (a range watch's catch-up from the table). */
function countTableRows(store: MvccStore): { rows: number } {
  const counter = { rows: 0 }
  const scan = store.history.bind(store)
  store.history = function* (from, to) {
    for (const row of scan(from, to)) {
      counter.rows++
      yield row
    }
  }
  return counter
}

t.test('range watches on a prefix with no history are live after one step, without reading the revisions table', async (t) => {
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  await writeMany(store, 20_000, (i) => `other${i % 1000}`)
  const table = countTableRows(store)
  const watches = Array.from({ length: 200 }, () => streamOn(hub))
  for (const w of watches) {
    t.teardown(() => w.stream.close())
    w.stream.send({ kind: 'create', request: watchCreate({ key: 'mine/', rangeEnd: Buffer.from('mine0'), startRevision: 1 }) })
  }
  await nextTurn()
  t.same([hub.counts.slowWatchers, table.rows], [0, 0], 'all 200 synced in one step, no row of the 20,000 revisions read')
  await putKey(store, 'mine/a', 'new')
  t.ok(
    watches.every((w) => w.events().map((e) => e.kv.value.toString()).join() === 'new'),
    'and the next write on the prefix reached all of them as it committed',
  )
})

const seed = testSeed('WATCH_RANGE_SEED')

t.test(`range watches catch up with exactly what a scan of the revisions table gives (WATCH_RANGE_SEED=${seed})`, async (t) => {
  const rnd = seededRandom(seed)
  const { store } = await openTestStore(t)
  const hub = hubOn(store)
  t.teardown(() => hub.close())
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  // latin1 keys: byte order is not the order of their decoded text
  const keys = [...Array.from({ length: 30 }, (_, i) => `a/${i}`), ...Array.from({ length: 10 }, (_, i) => `b/${i}`), '\xff', '\xff/x']
  const bytes = (k: string) => Buffer.from(k, 'latin1')
  /** One txn of 1..5 puts and deletes (single keys and ranges): its changes share a revision, in order. */
  const write = (i: number): Promise<void> => {
    const txn = store.write()
    const ops = 1 + Math.floor(rnd() * 5)
    for (let op = 0; op < ops; op++) {
      const k = pick(keys)
      const r = rnd()
      if (r < 0.15) txn.deleteRange(bytes(k), undefined)
      else if (r < 0.2) txn.deleteRange(bytes(k), bytes(pick(keys)))
      else txn.put(bytes(k), Buffer.from(`v${i}.${op}`), 0n)
    }
    return txn.end()
  }
  const writeBatch = async (from: number, n: number) => {
    for (let i = from; i < from + n; i += 100) await Promise.all(Array.from({ length: Math.min(100, from + n - i) }, (_, j) => write(i + j)))
  }
  // keys written once (below every random range deleted): a watch over every key visits them too, so a short
  // catch-up reads the table instead
  const once = store.write()
  for (let i = 0; i < 200; i++) once.put(bytes(`0/${i}`), Buffer.from('once'), 0n)
  await once.end()
  // a history longer than one gathering from the key index (8,192 revisions), compacted twice on the way
  await writeBatch(0, 4000)
  await (await store.compact(1 + Math.floor(rnd() * (store.committedRev - 1)))).physical
  await writeBatch(4000, 6000)
  await (await store.compact(store.compactRev + 1 + Math.floor(rnd() * (store.committedRev - store.compactRev)))).physical
  const table = countTableRows(store)

  const ranges: Array<[string, string]> = [
    ['a/', 'a0'], // prefix
    ['a/1', 'a/3'],
    ['b/', 'b0'],
    ['\x00', '\x00'], // every key
    ['\xff', '\x00'], // every key from \xff on
    ['c/', 'c0'], // no key ever
    ['a/5', 'b/5'],
  ]
  const watchFrom = (i: number) => {
    // and the last revision alone over every key
    const [key, end] = i === 0 ? ranges[3]! : pick(ranges)
    const startRevision = i === 0 ? store.committedRev : store.compactRev + Math.floor(rnd() * (store.committedRev - store.compactRev + 1))
    const filters = rnd() < 0.2 ? [WatchFilter.NOPUT] : rnd() < 0.2 ? [WatchFilter.NODELETE] : []
    const prevKv = rnd() < 0.3
    const w = streamOn(hub)
    t.teardown(() => w.stream.close())
    w.stream.send({ kind: 'create', request: watchCreate({ key: bytes(key), rangeEnd: bytes(end), startRevision, filters, prevKv }) })
    return { w, key, end: end === '\x00' ? '' : end, startRevision, filters, prevKv }
  }
  // the last revision's catch-up: one row (a random txn's range delete can make more rows than the key
  // index's visit is worth), before any write makes it longer
  const last = store.write()
  last.put(bytes('a/0'), Buffer.from('last'), 0n)
  await last.end()
  const watches = [watchFrom(0)]
  while (hub.counts.slowWatchers > 0) await nextTurn()
  t.ok(table.rows > 0, 'the catch-up of the last revision over every key read the table')
  for (let i = 1; i < 30; i++) watches.push(watchFrom(i))
  await writeBatch(10_000, 500) // written while they catch up
  while (hub.counts.slowWatchers > 0) await nextTurn()

  const describe = (e: Event) =>
    `${e.type === EventType.PUT ? 'put' : 'del'} ${e.kv.key.toString('latin1')}@${e.kv.modRevision} c${e.kv.createRevision} v${e.kv.version} ${e.kv.value.toString()}` +
    (e.prevKv ? ` prev ${e.prevKv.value.toString()}@${e.prevKv.modRevision}` : '')
  const reference = ({ key, end, startRevision, filters, prevKv }: (typeof watches)[number]): string[] => {
    const out: string[] = []
    for (const { change } of store.history(startRevision, store.committedRev)) {
      const k = change.kv.key.toString('latin1')
      if (k < key || (end !== '' && k >= end)) continue
      if (filters.includes(change.tombstone ? WatchFilter.NODELETE : WatchFilter.NOPUT)) continue
      const kv = change.tombstone ? { ...change.kv, createRevision: 0, version: 0, lease: 0n } : change.kv
      const prev = prevKv
        ? store.rangeKeys(change.kv.key, undefined, store.committedRev, { limit: 0, rev: change.kv.modRevision - 1, count: false }).kvs[0]
        : undefined
      out.push(describe({ type: change.tombstone ? EventType.DELETE : EventType.PUT, kv, ...(prev ? { prevKv: prev } : {}) }))
    }
    return out
  }
  let mismatches = 0
  for (const watch of watches) {
    const want = reference(watch)
    const got = watch.w.events().map(describe)
    if (got.join('\n') !== want.join('\n')) {
      mismatches++
      t.same(got, want, `watch on [${watch.key}, ${watch.end}) from ${watch.startRevision}`)
    }
  }
  t.equal(mismatches, 0, `all 30 watches (up to revision ${store.committedRev}, compacted at ${store.compactRev}) got the table's events`)
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

t.test("a progress request waits until the stream's watches have caught up: its revision comes after every event up to it", async (t) => {
  const { hub } = await hubOverHistory(t)
  const { got, stream, until, events } = streamOn(hub)
  t.teardown(() => stream.close())
  const other = streamOn(hub)
  t.teardown(() => other.stream.close())
  other.stream.send({ kind: 'create', request: watchCreate({ key: 'k', rangeEnd: Buffer.from('l'), startRevision: 2 }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'quiet' }) })
  stream.send({ kind: 'progress', request: {} })
  t.match(got[1], { watchId: -1, header: { revision: 5001 } }, "another stream's watch catching up does not hold this one's answer")
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', rangeEnd: Buffer.from('l'), startRevision: 2 }) })
  stream.send({ kind: 'progress', request: {} })
  stream.send({ kind: 'progress', request: {} })
  t.equal(got.length, 3, 'no answer while a watch of the stream catches up')
  await until(() => got.length > 3 && got[got.length - 1]!.watchId === -1)
  const answers = got.filter((r) => r.watchId === -1).slice(1)
  t.same(answers.map((r) => r.header.revision), [5001, 5001], 'each request answered, at the revision caught up to')
  t.equal(events().length, 5000, 'after the whole history')
  t.ok(got.slice(got.indexOf(answers[0]!)).every((r) => r.events.length === 0), 'no event after the answers')
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
