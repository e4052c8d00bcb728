/**
 * The snapshot's `key` bucket laid out as revisions commit: a snapshot then reads no row to lay it out,
 * and the file is the one a layout of every row gives. A removal of rows drops it; it is laid out again
 * from every row in the background (or by a snapshot that ends first); a restart loads it with the
 * restart state.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { SNAPSHOT_TABLES } from '../../../src/backend/embedded/etcd-snapshot.js'
import { KeyBucketLayout } from '../../../src/backend/embedded/key-bucket-layout.js'
import type { StoredChange } from '../../../src/backend/embedded/kv-codec.js'
import { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { RESTART_STATE_FILE } from '../../../src/backend/embedded/restart-state.js'
import { BucketLayout } from '../../../src/snapshot/bolt-writer.js'
import { carryOn, keyBucketShapes, snapshotDb } from '../../helpers/key-bucket-shapes.js'
import { writeWorkload } from '../../helpers/store-workload.js'
import { tempDir } from '../../helpers/temp-dir.js'

t.test('kept as revisions commit: a snapshot reads no row to lay out the key bucket, and its file is the same', async (t) => {
  const store = await MvccStore.open(tempDir(t))
  t.teardown(() => store.close())
  t.equal(store.keyBucketLayout.startFor().through, store.committedRev, 'a new store starts with the layout of no rows')
  await writeWorkload(store, 3000, 20)
  const shapes = await keyBucketShapes(store)
  t.equal(shapes.keptThrough, store.committedRev, 'kept through the last revision')
  t.equal(shapes.through, shapes.keptThrough, 'no row read after it')
  t.ok(shapes.full.pages > 10, `a tree of ${shapes.full.pages} pages`)
  t.same(shapes.kept, shapes.full, 'the tree of every row')
  t.same(await snapshotDb(store, 'kept'), await snapshotDb(store, 'rows'), 'the same file')
})

t.test('writes committed after a snapshot opened its transaction are not in its layout', async (t) => {
  const store = await MvccStore.open(tempDir(t))
  t.teardown(() => store.close())
  await writeWorkload(store, 2000, 5)
  const txn = store.readTransaction(SNAPSHOT_TABLES)
  const laidOut = store.keyBucketLayout.startFor()
  try {
    await writeWorkload(store, 2000, 5, 2)
    t.ok(store.committedRev > laidOut.through, 'writes committed meanwhile')
    t.same(carryOn(txn, laidOut), carryOn(txn, { layout: BucketLayout.empty(), through: 0, removals: 0 }), 'the tree of the rows the transaction reads')
    store.keyBucketLayout.offer(laidOut)
  } finally {
    txn.done()
  }
  const shapes = await keyBucketShapes(store)
  t.equal(shapes.keptThrough, store.committedRev, 'the layout kept is the one ahead')
  t.same(shapes.kept, shapes.full)
})

t.test('a compaction drops it; it is laid out again in the background, or by a snapshot that ends first, and writes carry it on', async (t) => {
  const store = await MvccStore.open(tempDir(t))
  t.teardown(() => store.close())
  await writeWorkload(store, 3000, 30)
  await (await store.compact(store.committedRev - 15)).physical
  t.equal(store.keyBucketLayout.startFor().through, 0, 'dropped: the removed rows were in it')

  // a snapshot's layout pass, ending before the one in the background
  const txn = store.readTransaction(SNAPSHOT_TABLES)
  const laidOut = store.keyBucketLayout.startFor()
  try {
    carryOn(txn, laidOut)
  } finally {
    txn.done()
  }
  store.keyBucketLayout.offer(laidOut)
  t.equal(store.keyBucketLayout.startFor().through, store.committedRev, "the snapshot's layout is kept")
  await store.keyBucketLaidOut()

  await writeWorkload(store, 3000, 10, 3)
  await (await store.compact(store.committedRev - 15)).physical
  t.equal(store.keyBucketLayout.startFor().through, 0, 'dropped again')
  await store.keyBucketLaidOut()
  let shapes = await keyBucketShapes(store)
  t.equal(shapes.keptThrough, store.committedRev, 'laid out again in the background')
  t.same(shapes.kept, shapes.full)

  await writeWorkload(store, 3000, 10, 4)
  shapes = await keyBucketShapes(store)
  t.equal(shapes.keptThrough, store.committedRev, 'and carried on by the writes after it')
  t.same(shapes.kept, shapes.full)
  t.same(await snapshotDb(store, 'kept'), await snapshotDb(store, 'rows'), 'the same file')
})

t.test('a compaction that removes rows while the background layout runs: it is laid out again after', async (t) => {
  const store = await MvccStore.open(tempDir(t))
  t.teardown(() => store.close())
  await writeWorkload(store, 120_000, 40)
  const first = await store.compact(store.committedRev - 30)
  await first.physical
  // the background pass over ~120,000 rows takes some 30 turns; this compaction's few rows are removed among them
  const second = await store.compact(store.committedRev - 10)
  await second.physical
  await store.keyBucketLaidOut()
  const shapes = await keyBucketShapes(store)
  t.equal(shapes.keptThrough, store.committedRev, 'laid out again once the rows were removed')
  t.same(shapes.kept, shapes.full)
})

t.test('a restart loads it with the restart state; a start-up without one lays it out in the background', async (t) => {
  const dir = tempDir(t)
  const first = await MvccStore.open(dir)
  await writeWorkload(first, 3000, 20)
  const rev = first.committedRev
  await first.close()
  const second = await MvccStore.open(dir)
  t.ok(second.startup.fromRestartState, 'started from the restart state')
  const shapes = await keyBucketShapes(second)
  t.equal(shapes.keptThrough, rev, 'the layout through the revision it was saved at')
  t.same(shapes.kept, shapes.full)
  await second.close()

  rmSync(join(dir, 'member', RESTART_STATE_FILE))
  const third = await MvccStore.open(dir)
  t.teardown(() => third.close())
  t.notOk(third.startup.fromRestartState, 'rebuilt from the rows')
  await third.keyBucketLaidOut()
  const rebuilt = await keyBucketShapes(third)
  t.equal(rebuilt.keptThrough, rev, 'laid out in the background')
  t.same(rebuilt.kept, rebuilt.full)
})

t.test('the bookkeeping: revisions in order, removals, offers', async (t) => {
  let removals = 0
  const kept = new KeyBucketLayout(() => removals)
  const change = (key: string, value: string, rev: number): StoredChange => ({
    tombstone: false,
    kv: { key: Buffer.from(key), value: Buffer.from(value), createRevision: rev, modRevision: rev, version: 1, lease: 0n },
  })
  t.equal(kept.startFor().through, 0, 'none before a start')
  kept.start(1)
  kept.committed(2, [change('a', 'x', 2)])
  kept.committed(3, [change('b', 'y', 3), change('c', 'z', 3)])
  t.equal(kept.startFor().through, 3, 'each revision laid out after the one before')
  kept.committed(5, [change('d', 'w', 5)])
  t.equal(kept.startFor().through, 3, 'one that does not follow is left to a snapshot')
  t.same(kept.savedAt(3), kept.startFor().layout.save(), 'saved at its revision')
  t.equal(kept.savedAt(5), undefined, 'not at another')

  const ahead = kept.startFor()
  ahead.through = 5
  ahead.layout.add(17, 10)
  removals = 1
  t.equal(kept.startFor().through, 0, 'dropped once a removal begins')
  kept.offer({ ...kept.startFor(), through: 9 })
  t.equal(kept.startFor().through, 0, 'a layout read while rows were being removed is refused')
  removals = 2
  kept.offer(ahead)
  t.equal(kept.startFor().through, 0, 'so is one read before a removal')
  const after = kept.startFor()
  after.through = 5
  kept.offer(after)
  t.equal(kept.startFor().through, 5, 'one read after it is kept')
  const behind = kept.startFor()
  behind.through = 4
  kept.offer(behind)
  t.equal(kept.startFor().through, 5, 'one behind the kept one is not')
})

t.test('a bucket layout as numbers and back', async (t) => {
  const layout = BucketLayout.empty()
  for (let i = 0; i < 50_000; i++) layout.add(i % 7 === 0 ? 18 : 17, 40 + (i % 300))
  const copy = BucketLayout.restore(layout.save())
  t.same(copy.shape(), layout.shape(), 'the same tree')
  copy.add(17, 100)
  layout.add(17, 100)
  t.same(copy.shape(), layout.shape(), 'carried on the same')
  t.ok(layout.shape().pages > 100 && layout.save().length === 3 + 4 * 3, 'three levels')
  for (const bad of [[], [4096], [4096, 10, 2, 1, 2, 3], [4096, -1, 0], [4096, 10, 1, 1, 8, 0, 0], [4096, 1.5, 0]]) {
    t.throws(() => BucketLayout.restore(bad), /not a bucket layout/, JSON.stringify(bad))
  }
})
