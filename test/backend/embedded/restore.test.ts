import t from 'tap'
import { key, openTestStore, putKey } from '../../helpers/embedded-store.js'

t.test('start-up attaches each live key to the lease of its newest put', async (t) => {
  const state = await openTestStore(t)
  await putKey(state.store, 'moved', '1', 5n)
  await putKey(state.store, 'moved', '2', 6n)
  await putKey(state.store, 'dropped', '1', 5n)
  await putKey(state.store, 'dropped', '2')
  await putKey(state.store, 'deleted', '1', 5n)
  const txn = state.store.write()
  txn.deleteRange(key('deleted'), undefined)
  await txn.end()
  await putKey(state.store, 'kept', '1', 5n)
  await (await state.store.compact(state.store.committedRev - 1)).physical
  const before = [5n, 6n].map((lease) => state.attachments.keysOf(lease))
  t.same(before, [['kept'], ['moved']])
  await state.reopen()
  t.same([5n, 6n].map((lease) => state.attachments.keysOf(lease)), before)
  t.equal(state.attachments.leaseOf('dropped'), 0n)
})
