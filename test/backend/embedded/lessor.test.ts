import t from 'tap'
import { Lessor, type LessorOptions } from '../../../src/backend/embedded/lessor.js'
import type { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { key, openTestStore, putKey, readAll } from '../../helpers/embedded-store.js'

type Opened = Awaited<ReturnType<typeof openTestStore>>

/** A lessor on the test store, on a clock the test moves by hand. */
function lessorOn(opened: Opened, clock: { now: number }, opts: Partial<LessorOptions> = {}) {
  const lessor = new Lessor(opened.store, opened.attachments, () => opened.store.table<number>('leases'), {
    minTtl: 2,
    checkIntervalMs: 5,
    restartExtensionMs: 1000,
    now: () => clock.now,
    ...opts,
  })
  lessor.restore()
  return lessor
}

/** What a client would see at this instant: whether the lease exists and whether its key does. */
function sample(store: MvccStore, lessor: Lessor, id: bigint, k: string) {
  return { lease: lessor.get(id) !== undefined, key: readAll(store).some((kv) => kv.startsWith(`${k}=`)) }
}

t.test('grant: minimum TTL, explicit and random IDs, duplicates and the TTL ceiling', async (t) => {
  const opened = await openTestStore(t)
  const lessor = lessorOn(opened, { now: 0 })
  t.teardown(() => lessor.close())
  t.equal((await lessor.grant({ id: 0n, ttl: 1 })).ttl, 2, 'raised to the minimum')
  const explicit = await lessor.grant({ id: 42n, ttl: 60 })
  t.same([explicit.id, explicit.ttl], [42n, 60])
  await t.rejects(lessor.grant({ id: 42n, ttl: 5 }), { message: 'etcdserver: lease already exists' })
  await t.rejects(lessor.grant({ id: 0n, ttl: 9_000_000_001 }), { message: 'etcdserver: too large lease TTL' })
  t.equal(lessor.ids().length, 2)
})

t.test('revoke: the lease leaves at the moment its keys do, never before', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  const lessor = lessorOn(opened, { now: 0 })
  t.teardown(() => lessor.close())
  await lessor.grant({ id: 7n, ttl: 60 })
  await putKey(store, 'a', '1', 7n)
  await putKey(store, 'b', '2', 7n)
  t.same(lessor.keysOf(7n), ['a', 'b'])
  const seenAtCommit: Array<ReturnType<typeof sample>> = []
  const stop = store.onCommit(() => seenAtCommit.push(sample(store, lessor, 7n, 'a')))
  const revoked = lessor.revoke(7n)
  t.same(sample(store, lessor, 7n, 'a'), { lease: true, key: true }, 'applied, not yet durable: both still there')
  t.notOk(lessor.exists(7n), 'no key can join a lease being revoked')
  t.equal(lessor.keepAlive(7n), undefined, 'nor can it be kept alive')
  await t.rejects(lessor.revoke(7n), { message: 'etcdserver: requested lease not found' }, 'revoked once')
  await revoked
  stop()
  t.same(seenAtCommit, [{ lease: false, key: false }], 'the commit that deletes the keys removes the lease')
  t.same(readAll(store), [])
  t.same(lessor.keysOf(7n), [])
})

t.test('expiry: an expired lease is revoked with its keys; the lease is never seen gone with its key left', async (t) => {
  const opened = await openTestStore(t)
  const { store } = opened
  const clock = { now: 0 }
  const lessor = lessorOn(opened, clock)
  t.teardown(() => lessor.close())
  const { id } = await lessor.grant({ id: 0n, ttl: 5 })
  await putKey(store, 'k', 'v', id)
  t.equal(lessor.remaining(lessor.get(id)!), 5)
  clock.now = 4_999
  t.equal(lessor.keepAlive(id), 5, 'kept alive before it expires')
  clock.now = 4_999 + 5_000
  t.equal(lessor.keepAlive(id), undefined, 'not after')
  const samples: Array<ReturnType<typeof sample>> = []
  await new Promise<void>((resolve) => {
    const poll = () => {
      const s = sample(store, lessor, id, 'k')
      samples.push(s)
      if (s.key) setImmediate(poll)
      else resolve()
    }
    poll()
  })
  t.notOk(
    samples.some((s) => !s.lease && s.key),
    'never the lease gone and its key present',
  )
  t.equal(lessor.get(id), undefined)
})

t.test('attachments follow the keys: moved, deleted, taken back by an aborted write, rebuilt at start-up', async (t) => {
  const opened = await openTestStore(t)
  let lessor = lessorOn(opened, { now: 0 })
  await lessor.grant({ id: 1n, ttl: 60 })
  await lessor.grant({ id: 2n, ttl: 60 })
  await putKey(opened.store, 'x', '1', 1n)
  await putKey(opened.store, 'y', '1', 1n)
  await putKey(opened.store, 'x', '2', 2n)
  t.same([lessor.keysOf(1n), lessor.keysOf(2n)], [['y'], ['x']], 'a put moves the key to its new lease')
  const failed = opened.store.write()
  failed.deleteRange(key('x'), undefined)
  failed.put(key('y'), key('3'), 2n)
  failed.abort()
  t.same([lessor.keysOf(1n), lessor.keysOf(2n)], [['y'], ['x']], 'an aborted write leaves them as they were')
  const del = opened.store.write()
  del.deleteRange(key('y'), undefined)
  await del.end()
  t.same(lessor.keysOf(1n), [], 'a delete detaches')
  await lessor.close()
  const clock = { now: 100_000 }
  await opened.reopen()
  lessor = lessorOn(opened, clock)
  t.teardown(() => lessor.close())
  t.same(lessor.ids().sort(), [1n, 2n], 'leases survive a restart')
  t.same(lessor.keysOf(2n), ['x'], 'with their keys, from the store')
  t.equal(lessor.remaining(lessor.get(2n)!), 61, 'and their full TTL plus the election timeout')
})
