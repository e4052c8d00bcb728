import t from 'tap'
import { join } from 'node:path'
import { open } from 'lmdb'
import { key, openTestStore, putKey, readAll } from '../../helpers/embedded-store.js'
import type { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'

/** Every row of the revisions table, as main.sub revisions. */
function rows(store: MvccStore): string[] {
  return [...store.history(0, store.committedRev)].map(({ rev }) => `${rev.main}.${rev.sub}`)
}

async function deleteKey(store: MvccStore, k: string): Promise<void> {
  const txn = store.write()
  txn.deleteRange(key(k), undefined)
  await txn.end()
}

t.test('compact: reads below fail, reads at and above answer as before', async (t) => {
  const { store } = await openTestStore(t)
  await putKey(store, 'a', '1') // 2
  await putKey(store, 'a', '2') // 3
  await putKey(store, 'b', '1') // 4
  await putKey(store, 'a', '3') // 5
  const before = [3, 4, 5].map((rev) => readAll(store, rev))
  const applied = store.appliedIndex
  const { physical } = await store.compact(3)
  t.equal(store.appliedIndex, applied + 1, 'a compaction is one applied entry')
  t.throws(() => readAll(store, 2), { message: 'mvcc: required revision has been compacted' })
  t.same([3, 4, 5].map((rev) => readAll(store, rev)), before, 'every read at or above the compact revision is unchanged')
  await physical
  t.same([3, 4, 5].map((rev) => readAll(store, rev)), before, 'also once the rows are gone')
  await t.rejects(store.compact(3), { message: 'mvcc: required revision has been compacted' }, 'not twice')
  await t.rejects(store.compact(99), { message: 'mvcc: required revision is a future revision' })
})

t.test('physical compaction removes exactly the superseded rows', async (t) => {
  const { store } = await openTestStore(t)
  await putKey(store, 'a', '1') // 2
  await putKey(store, 'a', '2') // 3
  await putKey(store, 'gone', '1') // 4
  await deleteKey(store, 'gone') // 5
  await putKey(store, 'b', '1') // 6
  await putKey(store, 'a', '3') // 7
  t.same(rows(store), ['2.0', '3.0', '4.0', '5.0', '6.0', '7.0'])
  const { physical } = await store.compact(6)
  await physical
  t.same(rows(store), ['3.0', '6.0', '7.0'], "a's value at 6 and everything after; the deleted key entirely")
  t.same(readAll(store, 6), ['a=2', 'b=1'])
})

t.test('a compaction cut short by a crash is finished at the next start', async (t) => {
  const opened = await openTestStore(t)
  for (let i = 0; i < 5; i++) await putKey(opened.store, 'k', String(i)) // 2..6
  await opened.store.close()
  // what a crash leaves after recording a compaction and before removing its rows
  const root = open({ path: join(opened.store.dir, 'store.mdb'), overlappingSync: false, maxDbs: 8 })
  await root.openDB<unknown, string>({ name: 'meta' }).put('compactScheduled', 5)
  await root.close()
  const { store } = await opened.reopen()
  t.equal(store.compactRev, 5)
  t.same(rows(store), ['5.0', '6.0'], 'superseded rows removed at start-up')
  t.throws(() => readAll(store, 4), { message: 'mvcc: required revision has been compacted' })
  t.same(readAll(store, 5), ['k=3'])
})

t.test('compaction and restart: the compact revision and the current revision survive even with no rows left', async (t) => {
  const opened = await openTestStore(t)
  await putKey(opened.store, 'x', '1') // 2
  await deleteKey(opened.store, 'x') // 3
  const { physical } = await opened.store.compact(3)
  await physical
  t.same(rows(opened.store), [], 'a lone tombstone goes too')
  const { store } = await opened.reopen()
  t.same([store.compactRev, store.currentRev], [3, 3])
  t.equal(await putKey(store, 'y', '1'), 4, 'writes continue after the compacted revision')
})
