import t, { type Test } from 'tap'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Errors } from '../../../src/errors.js'
import { key, openTestStore, putKey, readAll } from '../../helpers/embedded-store.js'
import { settlesWithin } from '../../helpers/settles-within.js'
import { cannotMount, fill, smallDisk } from '../../helpers/tmpfs.js'

/** A value too big for the room left by storeOnFullDisk: a transaction holding one fails. */
const BIG = Buffer.alloc(300_000, 1)

/** A store holding `kept=v` on a 16 MiB disk, then filled by `filler` to leave 1 MB. */
async function storeOnFullDisk(t: Test) {
  const disk = smallDisk(t, 16)
  const opened = await openTestStore(t, join(disk, 'data'))
  await putKey(opened.store, 'kept', 'v')
  return { opened, filler: fill(disk, 1_000_000) }
}

/** Each write's error code once all have settled (false for one that did not fail). */
async function failureCodes(writes: Promise<unknown>[]): Promise<(string | false | undefined)[]> {
  const results = await Promise.allSettled(writes)
  return results.map((r) => r.status === 'rejected' && (r.reason as { code?: string }).code)
}

t.test('group commit: concurrent writes share batches and become readable in revision order', async (t) => {
  const { store } = await openTestStore(t)
  const seen: number[] = []
  store.onCommit((rev) => seen.push(rev))
  const revs = await Promise.all(Array.from({ length: 50 }, (_, i) => putKey(store, `k${i % 7}`, String(i))))
  t.same(revs, Array.from({ length: 50 }, (_, i) => i + 2))
  t.same(seen, revs, 'listeners hear every revision once, in order')
  t.equal(store.committedRev, 51)
})

t.test('writes issued while a batch is logged: acknowledged, heard and readable in revision order, all in the file', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  let batches = 0
  store.observeFile({ logged: () => batches++, committed: () => undefined, failed: () => undefined, defragmented: () => undefined })
  const heard: number[] = []
  store.onCommit((rev) => heard.push(rev))
  const acknowledged: number[] = []
  const writes: Promise<void>[] = []
  for (let i = 0; i < 60; i++) {
    writes.push(
      putKey(store, `k${i % 9}`, String(i)).then((rev) => {
        t.ok(store.committedRev >= rev && heard.includes(rev), `revision ${rev} is readable and heard when acknowledged`)
        acknowledged.push(rev)
      }),
    )
    if (i % 6 === 5) await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(writes)
  const revs = Array.from({ length: 60 }, (_, i) => i + 2)
  t.same(acknowledged, revs, 'acknowledged in revision order')
  t.same(heard, revs, 'heard once each, in order')
  t.ok(batches > 1, `${batches} batches logged`)
  const answered = readAll(store)
  const { store: reopened } = await opened.reopen()
  t.equal(reopened.committedRev, 61, 'the file holds every acknowledged write')
  t.same(readAll(reopened), answered)
})

t.test('a defragment asked for while writes wait behind the batch being logged: they go first, writes issued during it follow', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  const acknowledged: number[] = []
  const writes: Promise<void>[] = []
  const put = (i: number) => writes.push(putKey(store, `k${i % 5}`, String(i)).then((rev) => void acknowledged.push(rev)))
  // as under steady load: a batch being logged, writes queued behind it and logged ones lmdb does not hold yet
  for (let i = 0; i < 15; i++) {
    put(i)
    if (i === 4 || i === 9) await new Promise((resolve) => setImmediate(resolve))
  }
  const defragmented = store.defragment()
  for (let i = 15; i < 20; i++) put(i)
  await settlesWithin(Promise.all([defragmented, ...writes]), 10_000, 'the defragment and the writes around it')
  t.same(acknowledged, Array.from({ length: 20 }, (_, i) => i + 2), 'every write acknowledged, in revision order')
  const answered = readAll(store)
  t.same(answered, ['k0=15', 'k1=16', 'k2=17', 'k3=18', 'k4=19'])
  const { store: reopened } = await opened.reopen()
  t.equal(reopened.committedRev, 21, 'the new file holds every acknowledged write')
  t.same(readAll(reopened), answered)
})

/**
 * What a store on a full disk ends with, whichever writes the log and lmdb still took: each write
 * acknowledged or failed with the persist error, the failed ones a suffix (a failed batch fails those
 * behind it) taken back without a trace, the acknowledged ones readable. Then, with space freed, the next
 * write takes the next revision and the reopened file holds exactly what was acknowledged.
 */
async function checkFullDisk(t: Test, opened: Awaited<ReturnType<typeof storeOnFullDisk>>['opened'], filler: string, writes: Array<{ key?: string; deletesKept?: boolean; done: Promise<unknown> }>, before: number[]) {
  const { store } = opened
  const codes = await failureCodes(writes.map((w) => w.done))
  const failedAt = codes.findIndex((code) => code !== false)
  t.ok(failedAt >= 0, `the full disk refused writes (from write ${failedAt} of ${writes.length} on)`)
  t.same(codes.slice(failedAt), codes.slice(failedAt).map(() => Errors.persistFailed.code), "every write from the first refused on fails with etcd's persist error")
  const acked = writes.slice(0, failedAt)
  const revisions = acked.filter((w) => w.key !== undefined).length
  t.same([store.currentRev, store.committedRev], [before[0]! + revisions, before[1]! + revisions], 'the revisions are those of the acknowledged writes')
  const keys = (answered: string[]) => answered.map((kv) => kv.slice(0, kv.indexOf('=')))
  const wanted = [...acked.flatMap((w) => (w.key ? [w.key] : [])), ...(acked.some((w) => w.deletesKept) ? [] : ['kept'])].sort()
  t.same(keys(readAll(store)), wanted, 'the acknowledged writes are readable, the refused ones left no trace')
  rmSync(filler)
  t.equal(await putKey(store, 'after', 'v'), before[0]! + revisions + 1, 'with space freed, the next write takes the next revision')
  const answered = readAll(store)
  const { store: reopened } = await opened.reopen()
  t.same(readAll(reopened), answered, 'and the reopened file holds exactly what was acknowledged')
  t.equal(reopened.currentRev, before[0]! + revisions + 1)
}

t.test('a full disk: writes the log or lmdb cannot take fail with the persist error and are taken back, with every write behind them', { skip: cannotMount() }, async (t) => {
  const { opened, filler } = await storeOnFullDisk(t)
  const { store, attachments } = opened
  const before = [store.currentRev, store.committedRev]
  const writes: Array<{ key?: string; deletesKept?: boolean; done: Promise<unknown> }> = []
  for (let i = 0; i < 24; i++) {
    const txn = store.write()
    txn.put(key(`big${i}`), BIG, 7n)
    if (i === 13) txn.deleteRange(key('kept'), undefined)
    writes.push({ key: `big${i}`, deletesKept: i === 13, done: txn.end() })
    if (i === 15) writes.push({ done: store.setMeta('other', i) })
    // a few writes a batch
    if (i % 3 === 2) await new Promise((resolve) => setImmediate(resolve))
  }
  const acked = (await failureCodes(writes.map((w) => w.done))).filter((code) => code === false).length
  t.same(attachments.keysOf(7n), writes.slice(0, acked).flatMap((w) => (w.key ? [w.key] : [])).sort(), 'the lease attachments are those of the acknowledged writes')
  await checkFullDisk(t, opened, filler, writes, before)
})

t.test('a full disk under a defragment: the writes held by it follow those they were applied on, refused or not', { skip: cannotMount() }, async (t) => {
  const { opened, filler } = await storeOnFullDisk(t)
  const { store } = opened
  const before = [store.currentRev, store.committedRev]
  const writes: Array<{ key?: string; done: Promise<unknown> }> = []
  for (let i = 0; i < 20; i++) {
    const txn = store.write()
    txn.put(key(`big${i}`), BIG, 0n)
    writes.push({ key: `big${i}`, done: txn.end() })
  }
  const defragmented = store.defragment()
  for (let i = 0; i < 3; i++) writes.push({ key: `during${i}`, done: putKey(store, `during${i}`, 'v') })
  // on the full disk its copy may fail as well (the writes' failures are handled meanwhile)
  await Promise.all([failureCodes(writes.map((w) => w.done)), defragmented.catch(() => undefined)])
  await checkFullDisk(t, opened, filler, writes, before)
})

t.test('while lmdb cannot take acknowledged writes: what waits for them fails with the persist error until space is freed', { skip: cannotMount() }, async (t) => {
  const { opened, filler } = await storeOnFullDisk(t)
  const { store } = opened
  // 1.8 MB of writes: the log's segment has room for them, the disk has not (lmdb may fail to take some
  // already, and the writes after that are refused)
  const acked: string[] = []
  let refused: unknown
  for (let i = 0; i < 6 && !refused; i++) {
    const txn = store.write()
    txn.put(key(`big${i}`), BIG, 0n)
    refused = await txn.end().then(() => void acked.push(`big${i}`), (err: unknown) => err)
  }
  t.ok(acked.length > 0, `${acked.length} writes acknowledged`)
  if (refused) t.match(refused, { code: Errors.persistFailed.code }, 'the next refused')
  const persistError = { code: Errors.persistFailed.code, message: /^etcdserver: failed to persist the logged writes to the store file: / }
  await t.rejects(store.writesSettled(), persistError, 'a hash or snapshot waiting for the acknowledged writes')
  await t.rejects(store.defragment(), persistError, "a defragment, which waits for them first")
  t.ok(store.sizeOnceStored() >= store.fileSize() + acked.length * BIG.length, 'the quota still counts the writes lmdb failed to take')
  rmSync(filler)
  await t.resolves(store.writesSettled(), 'with space freed, lmdb takes them')
  await t.resolves(store.defragment(), 'and a defragment succeeds')
  const { store: reopened } = await opened.reopen()
  t.same(readAll(reopened).map((kv) => kv.slice(0, kv.indexOf('='))), [...acked, 'kept'].sort(), 'the reopened file holds every acknowledged write')
})

t.test("the quota's size while lmdb takes a large write: its record is counted once, never in the file and as waiting both", async (t) => {
  const { store } = await openTestStore(t)
  const big = store.write()
  big.put(key('big'), Buffer.alloc(24 << 20, 1), 0n)
  await big.end()
  // lmdb takes the big write now; each small write logged meanwhile has the file's size looked up again,
  // which shows the pages lmdb has written before its transaction is done
  let stored = false
  const settled = store.writesSettled().then(() => void (stored = true))
  const seen: number[] = []
  for (let i = 0; !stored && i < 2000; i++) {
    await putKey(store, `small${i % 10}`, 'v')
    seen.push(store.sizeOnceStored())
  }
  await settled
  t.ok(stored, 'lmdb took the big write')
  await store.writesSettled()
  const final = store.sizeOnceStored()
  t.equal(final, store.fileSize(), 'with every write stored, the file alone')
  const most = Math.max(...seen)
  t.ok(most <= final + 64 * 1024, `at most the file it became: ${most} against ${final}, over ${seen.length} writes`)
})

t.test('open read transactions are counted until done, across a defragment that swaps the file under one', async (t) => {
  const { store } = await openTestStore(t)
  await putKey(store, 'a', '1')
  t.equal(store.openReadTransactions, 0)
  const first = store.readTransaction([])
  const second = store.readTransaction([])
  t.equal(store.openReadTransactions, 2)
  await store.defragment()
  t.equal(store.openReadTransactions, 2, 'the old file stays open for its readers')
  first.done()
  t.equal(store.openReadTransactions, 1)
  second.done()
  t.equal(store.openReadTransactions, 0)
})
