/** The replica's store: loaded keys, applied revisions, reads at past revisions, compaction, history and its memory estimate. */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import t from 'tap'
import type { KeyValue } from '../../../src/backend/backend.js'
import { ReplicaStore } from '../../../src/backend/remote/replica/replica-store.js'
import { EtcdError } from '../../../src/errors.js'

const kv = (key: string, value: string, modRevision: number, createRevision = modRevision, version = 1): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  modRevision,
  createRevision,
  version,
  lease: 0n,
})
const read = (store: ReplicaStore, key: string, end: string | undefined, rev = 0) =>
  store
    .rangeKeys(Buffer.from(key), end === undefined ? undefined : Buffer.from(end), store.committedRev, { limit: 0, rev, count: false })
    .kvs.map((k) => `${k.key}=${k.value}@${k.modRevision}`)

t.test('a load, then revisions applied on top: reads at each revision the replica holds', async (t) => {
  const store = new ReplicaStore()
  store.reset(10)
  store.load(kv('a', '1', 3))
  store.load(kv('b', '1', 7))
  store.load(kv('c', '1', 7))
  const commits: number[] = []
  store.onCommit((rev) => commits.push(rev))
  store.apply(11, [{ kv: kv('b', '2', 11, 7, 2), tombstone: false }])
  store.apply(12, [
    { kv: kv('a', '', 12, 0, 0), tombstone: true },
    { kv: kv('d', '1', 12), tombstone: false },
  ])
  t.same(commits, [11, 12])
  t.same(read(store, 'a', 'z'), ['b=2@11', 'c=1@7', 'd=1@12'])
  t.same(read(store, 'a', 'z', 11), ['a=1@3', 'b=2@11', 'c=1@7'])
  t.same(read(store, 'a', 'z', 10), ['a=1@3', 'b=1@7', 'c=1@7'], 'the load revision itself')
  t.throws(() => read(store, 'a', 'z', 9), EtcdError, 'no history before the load')
  t.equal(store.rangeKeys(Buffer.from('a'), Buffer.from('z'), 12, { limit: 1, rev: 11, count: false }).count, 3, 'count at a past revision')
  t.same(
    [...store.history(11, 12)].map(({ rev, change }) => `${rev.main}.${rev.sub} ${change.kv.key}${change.tombstone ? ' deleted' : ''}`),
    ['11.0 b', '12.0 a deleted', '12.1 d'],
  )
  t.equal(store.watchFrom, 11)
  t.throws(() => store.apply(12, []), 'a revision is applied once')

  store.compact(12)
  t.equal(store.readFrom, 12)
  t.same(read(store, 'a', 'z'), ['b=2@11', 'c=1@7', 'd=1@12'], 'compaction keeps what the newest revision reads')
  t.throws(() => read(store, 'a', 'z', 11), EtcdError, 'compacted')
})

t.test('memory: the estimate is within a third of what 100,000 keys take', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const value = Buffer.alloc(256, 1)
  const store = new ReplicaStore()
  store.reset(200_000)
  gc()
  const before = process.memoryUsage()
  for (let i = 0; i < 100_000; i++) store.load({ ...kv(`/registry/pods/ns-${i % 100}/pod-${i}`, '', i + 1), value })
  gc()
  const after = process.memoryUsage()
  const used = after.heapUsed - before.heapUsed + after.external - before.external
  t.ok(Math.abs(used - store.bytes) < store.bytes / 3, `estimated ${store.bytes / 100_000} bytes per key, used ${used / 100_000}`)
})
