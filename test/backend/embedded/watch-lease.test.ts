import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEmbeddedBackend, type EmbeddedOptions } from '../../../src/backend/embedded/index.js'
import { AlarmAction, AlarmType, EventType, WatchFilter, type Backend, type WatchResponse } from '../../../src/backend/backend.js'
import { put, range, watchCreate } from '../../helpers/requests.js'

const b = (s: string) => Buffer.from(s)
async function fresh(t: Test, extra: Partial<EmbeddedOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-wl-'))
  const open = () => openEmbeddedBackend({ dataDir: dir, name: 'test', maxTxnOps: 128, ...extra })
  const state = {
    backend: await open(),
    async reopen(): Promise<Backend> {
      await state.backend.close()
      state.backend = await open()
      return state.backend
    },
  }
  t.teardown(async () => {
    await state.backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return state
}

function collector(backend: Backend) {
  const got: WatchResponse[] = []
  const waiters: Array<() => void> = []
  const stream = backend.watch.open((r) => {
    got.push(r)
    waiters.splice(0).forEach((w) => w())
  })
  const until = async (n: number) => {
    while (got.length < n) await new Promise<void>((resolve) => waiters.push(resolve))
  }
  return { got, stream, until }
}

t.test('watch: ids, events, filters, prev_kv, cancel and progress', async (t) => {
  const { backend } = await fresh(t)
  const { got, stream, until } = collector(backend)
  stream.send({ kind: 'create', request: watchCreate({ key: 'a' }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'a', prevKv: true, filters: [WatchFilter.NODELETE] }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'a', watchId: 7 }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'a', watchId: 7 }) })
  t.same(got.map((r) => [r.watchId, r.created, r.canceled]), [[0, true, false], [1, true, false], [7, true, false], [-1, true, true]])
  t.equal(got[3]!.cancelReason, 'mvcc: duplicate watch ID provided on the WatchStream')
  await backend.kv.put(put({ key: 'a', value: '1' }))
  await backend.kv.put(put({ key: 'a', value: '2' }))
  await backend.kv.deleteRange({ key: b('a'), rangeEnd: Buffer.alloc(0), prevKv: false })
  await until(4 + 3 + 3 + 2)
  const forId = (id: number) => got.slice(4).filter((r) => r.watchId === id)
  t.same(forId(0).map((r) => [r.header.revision, r.events.map((e) => e.type)]), [[2, [EventType.PUT]], [3, [EventType.PUT]], [4, [EventType.DELETE]]])
  t.same(forId(1).length, 2, 'NODELETE filters the delete')
  t.equal(forId(1)[1]!.events[0]!.prevKv!.value.toString(), '1', 'prev_kv is the value before')
  const del = forId(0)[2]!.events[0]!.kv
  t.same([del.key.toString(), del.modRevision, del.createRevision, del.version], ['a', 4, 0, 0])
  stream.send({ kind: 'cancel', request: { watchId: 0 } })
  stream.send({ kind: 'cancel', request: { watchId: 42 } })
  stream.send({ kind: 'progress', request: {} })
  const tail = got.slice(-2)
  t.same(tail.map((r) => [r.watchId, r.canceled]), [[0, true], [-1, false]], 'cancel answered, unknown cancel ignored, progress is -1')
  stream.close()
})

t.test('watch: history replay in one message and compacted start', async (t) => {
  const { backend } = await fresh(t)
  for (const v of ['1', '2', '3']) await backend.kv.put(put({ key: 'k', value: v }))
  await backend.kv.put(put({ key: 'other', value: 'x' }))
  const { got, stream, until } = collector(backend)
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', startRevision: 2 }) })
  t.equal(got.length, 1, 'created at once; the history follows')
  await until(2)
  t.same(got[1]!.events.map((e) => e.kv.value.toString()), ['1', '2', '3'], 'one message with the whole history')
  t.equal(got[1]!.header.revision, 5)
  await backend.kv.compact({ revision: 4, physical: true })
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', startRevision: 3 }) })
  t.same([got[2]!.created, got[3]!.canceled, got[3]!.compactRevision, got[3]!.header.revision], [true, true, 4, 0])
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', startRevision: 4 }) })
  await until(6)
  t.same(got[5]!.events.map((e) => e.kv.value.toString()), ['3'], 'start at the compact revision works')
  stream.close()
})

t.test('leases: grant rules, keepalive, time to live, revoke and expiry', async (t) => {
  const state = await fresh(t, { leaseCheckIntervalMs: 50 })
  const { lease, kv } = state.backend
  const g = await lease.grant({ ttl: 1, id: 0n })
  t.equal(g.ttl, 2, 'TTL below the minimum becomes 2')
  t.ok(g.id > 0n)
  await t.rejects(lease.grant({ ttl: 10, id: g.id }), { grpcCode: 9, message: 'etcdserver: lease already exists' })
  await t.rejects(lease.grant({ ttl: 9_000_000_001, id: 0n }), { grpcCode: 11, message: 'etcdserver: too large lease TTL' })
  const neg = await lease.grant({ ttl: 30, id: -7n })
  t.equal(neg.id, -7n)
  t.equal((await lease.keepAlive(424242n)).ttl, 0)
  t.equal((await lease.timeToLive({ id: 424242n, keys: false })).ttl, -1)
  await kv.put(put({ key: 'x', value: '1', lease: -7n }))
  await kv.put(put({ key: 'y', value: '2', lease: -7n }))
  const ttl = await lease.timeToLive({ id: -7n, keys: true })
  t.same(ttl.keys.map(String).sort(), ['x', 'y'])
  t.equal(ttl.grantedTtl, 30)
  const { got, stream } = collector(state.backend)
  stream.send({ kind: 'create', request: watchCreate({ key: 'a', rangeEnd: b('z') }) })
  const revoked = await lease.revoke(-7n)
  await new Promise((r) => setImmediate(r))
  t.equal(revoked.header.revision, 4, "revoke deletes the keys at one new revision")
  t.same(got[1]!.events.map((e) => [e.type, e.kv.key.toString()]), [[EventType.DELETE, 'x'], [EventType.DELETE, 'y']], 'one message')
  await t.rejects(lease.revoke(-7n), { grpcCode: 5, message: 'etcdserver: requested lease not found' })
  await kv.put(put({ key: 'tmp', value: 't', lease: g.id }))
  const reopened = await state.reopen()
  t.ok((await reopened.lease.leases()).leases.some((l) => l.id === g.id), 'leases survive a restart')
  t.equal((await reopened.kv.range(range({ key: 'tmp' }))).count, 1)
  // expiry is seen as its key's deletion; by the time anyone sees that, the lease is gone too
  const expiry = collector(reopened)
  expiry.stream.send({ kind: 'create', request: watchCreate({ key: 'tmp' }) })
  // the lessor's check timer does not hold the process open; this does while the test waits
  const open = setInterval(() => undefined, 1000)
  await expiry.until(2)
  clearInterval(open)
  t.same(expiry.got[1]!.events.map((e) => [e.type, e.kv.key.toString()]), [[EventType.DELETE, 'tmp']], 'expiry deleted its key')
  t.equal((await reopened.lease.timeToLive({ id: g.id, keys: false })).ttl, -1, 'the lease expired')
  t.equal((await reopened.kv.range(range({ key: 'tmp' }))).count, 0)
  expiry.stream.close()
  stream.close()
})

t.test("raft index: every applied request counts, as etcd's, revisions or not, across restarts", async (t) => {
  const state = await fresh(t)
  const index = async () => {
    const s = await state.backend.maintenance.status()
    t.equal(s.raftAppliedIndex, s.raftIndex)
    return { index: s.raftIndex, rev: s.header.revision }
  }
  const start = await index()
  await state.backend.kv.put(put({ key: 'a', value: 'v' }))
  t.same(await index(), { index: start.index + 1, rev: start.rev + 1 }, 'a put: one entry, one revision')
  const g = await state.backend.lease.grant({ ttl: 60, id: 0n })
  t.same(await index(), { index: start.index + 2, rev: start.rev + 1 }, 'a lease grant: an entry, no revision')
  await state.backend.lease.revoke(g.id)
  t.same(await index(), { index: start.index + 3, rev: start.rev + 1 }, 'revoking a lease without keys')
  await state.backend.maintenance.alarm({ action: AlarmAction.ACTIVATE, memberId: 1n, alarm: AlarmType.NOSPACE })
  await state.backend.maintenance.alarm({ action: AlarmAction.DEACTIVATE, memberId: 1n, alarm: AlarmType.NOSPACE })
  t.same(await index(), { index: start.index + 5, rev: start.rev + 1 }, 'alarms')
  await state.backend.kv.compact({ revision: start.rev + 1, physical: true })
  t.same(await index(), { index: start.index + 6, rev: start.rev + 1 }, 'a compaction')
  await state.reopen()
  t.same(await index(), { index: start.index + 7, rev: start.rev + 1 }, 'kept across a restart, plus its election')
})
