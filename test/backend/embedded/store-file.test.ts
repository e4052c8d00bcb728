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

t.test('group commit: concurrent writes share transactions and become readable in revision order', async (t) => {
  const { store } = await openTestStore(t)
  const seen: number[] = []
  store.onCommit((rev) => seen.push(rev))
  const revs = await Promise.all(Array.from({ length: 50 }, (_, i) => putKey(store, `k${i % 7}`, String(i))))
  t.same(revs, Array.from({ length: 50 }, (_, i) => i + 2))
  t.same(seen, revs, 'listeners hear every revision once, in order')
  t.equal(store.committedRev, 51)
})

t.test('writes issued while transactions are in flight: acknowledged, heard and readable in revision order, all in the file', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  let transactions = 0
  store.observeFile({ committed: () => transactions++, failed: () => undefined, defragmented: () => undefined })
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
  t.ok(transactions > 1, `${transactions} transactions`)
  const answered = readAll(store)
  const { store: reopened } = await opened.reopen()
  t.equal(reopened.committedRev, 61, 'the file holds every acknowledged write')
  t.same(readAll(reopened), answered)
})

t.test('a defragment asked for while writes wait behind the transactions in flight: they go first, writes issued during it follow', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  const acknowledged: number[] = []
  const writes: Promise<void>[] = []
  const put = (i: number) => writes.push(putKey(store, `k${i % 5}`, String(i)).then((rev) => void acknowledged.push(rev)))
  // as under steady load: two transactions in flight and writes queued behind them
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

t.test('a transaction that fails takes back its writes and every write queued behind it', { skip: cannotMount() }, async (t) => {
  const { opened, filler } = await storeOnFullDisk(t)
  const { store, attachments } = opened
  const before = [store.currentRev, store.committedRev, store.appliedIndex]
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 8; i++) {
    const txn = store.write()
    txn.put(key(`big${i}`), BIG, 7n)
    if (i === 3) txn.deleteRange(key('kept'), undefined)
    writes.push(txn.end())
    if (i === 5) writes.push(store.setMeta('other', i))
  }
  t.same(await failureCodes(writes), writes.map(() => Errors.persistFailed.code), 'every write fails with the persist error')
  t.same([store.currentRev, store.committedRev, store.appliedIndex], before, 'no revision and no applied entry is left behind')
  t.same(readAll(store), ['kept=v'], 'the index is as before, the deleted key back')
  t.equal(store.index.size, 1)
  t.same(attachments.keysOf(7n), [], 'so are the lease attachments')

  rmSync(filler)
  t.equal(await putKey(store, 'after', 'v'), before[0]! + 1, 'the next write takes the next revision')
  const { store: reopened } = await opened.reopen()
  t.same(readAll(reopened), ['after=v', 'kept=v'], 'and the file holds exactly what was acknowledged')
  t.equal(reopened.currentRev, before[0]! + 1)
})

t.test('a transaction that fails while a defragment waits for it takes back the writes issued during the defragment too', { skip: cannotMount() }, async (t) => {
  const { opened, filler } = await storeOnFullDisk(t)
  const { store } = opened
  const before = [store.currentRev, store.committedRev]
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 6; i++) {
    const txn = store.write()
    txn.put(key(`big${i}`), BIG, 0n)
    writes.push(txn.end())
  }
  const defragmented = store.defragment()
  for (let i = 0; i < 3; i++) writes.push(putKey(store, `during${i}`, 'v'))
  t.same(
    await failureCodes(writes),
    writes.map(() => Errors.persistFailed.code),
    'the writes issued during the defragment fail with those they were applied on',
  )
  // on the full disk its copy may fail as well: either way no write is left behind
  await defragmented.catch(() => undefined)
  t.same([store.currentRev, store.committedRev], before, 'no revision is left behind')
  t.same(readAll(store), ['kept=v'])

  rmSync(filler)
  t.equal(await putKey(store, 'after', 'v'), before[0]! + 1, 'the next write takes the next revision')
  const { store: reopened } = await opened.reopen()
  t.same(readAll(reopened), ['after=v', 'kept=v'], 'the file holds exactly what was acknowledged')
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
