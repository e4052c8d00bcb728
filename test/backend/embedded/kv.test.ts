import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEmbeddedBackend } from '../../../src/backend/embedded/index.js'
import type { Backend, RequestOp, Compare } from '../../../src/backend/backend.js'
import { put, range } from '../../helpers/requests.js'
import { CompareResult, CompareTarget } from '../../../src/backend/backend.js'

const b = (s: string) => Buffer.from(s)

const cmp = (key: string, extra: Partial<Compare>): Compare => ({
  result: CompareResult.EQUAL,
  target: CompareTarget.VERSION,
  key: b(key),
  rangeEnd: Buffer.alloc(0),
  version: 0,
  createRevision: 0,
  modRevision: 0,
  value: Buffer.alloc(0),
  lease: 0n,
  ...extra,
})

async function fresh(t: Test): Promise<{ backend: Backend; dir: string; reopen: () => Promise<Backend> }> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-kv-'))
  const open = () => openEmbeddedBackend({ dataDir: dir, name: 'test', maxTxnOps: 128 })
  const state = { backend: await open(), dir, reopen: async () => {
    await state.backend.close()
    state.backend = await open()
    return state.backend
  } }
  t.teardown(async () => {
    await state.backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return state
}

t.test('revisions, versions and create revisions follow etcd', async (t) => {
  const { backend } = await fresh(t)
  const p1 = await backend.kv.put(put({ key: 'foo', value: 'a' }))
  t.equal(p1.header.revision, 2, 'first write is revision 2')
  await backend.kv.put(put({ key: 'foo', value: 'b' }))
  const r = await backend.kv.range(range({ key: 'foo' }))
  t.equal(r.count, 1)
  t.match(r.kvs[0], { createRevision: 2, modRevision: 3, version: 2 })
  t.equal(r.kvs[0]!.value.toString(), 'b')
  const past = await backend.kv.range(range({ key: 'foo', revision: 2 }))
  t.equal(past.kvs[0]!.value.toString(), 'a')
  t.equal(past.header.revision, 3, 'header carries the current revision, not the requested one')
  const del = await backend.kv.deleteRange({ key: b('foo'), rangeEnd: Buffer.alloc(0), prevKv: true })
  t.equal(del.deleted, 1)
  t.equal(del.header.revision, 4)
  t.equal(del.prevKvs[0]!.value.toString(), 'b')
  const again = await backend.kv.put(put({ key: 'foo', value: 'c' }))
  t.equal(again.header.revision, 5)
  const r2 = await backend.kv.range(range({ key: 'foo' }))
  t.match(r2.kvs[0], { createRevision: 5, modRevision: 5, version: 1 })
  const noop = await backend.kv.deleteRange({ key: b('nothing'), rangeEnd: Buffer.alloc(0), prevKv: false })
  t.equal(noop.header.revision, 5, 'deleting nothing makes no revision')
})

t.test('range end rules, limit, count and sort', async (t) => {
  const { backend } = await fresh(t)
  for (const k of ['a', 'b', 'c', 'd']) await backend.kv.put(put({ key: k, value: k.toUpperCase() }))
  await backend.kv.put(put({ key: 'b', value: 'B2' }))
  const all = await backend.kv.range(range({ key: 'a', rangeEnd: Buffer.from([0]) }))
  t.same(all.kvs.map((kv) => kv.key.toString()), ['a', 'b', 'c', 'd'])
  const limited = await backend.kv.range(range({ key: 'a', rangeEnd: b('d'), limit: 2 }))
  t.equal(limited.count, 3)
  t.equal(limited.more, true)
  t.same(limited.kvs.map((kv) => kv.key.toString()), ['a', 'b'])
  const byVersion = await backend.kv.range(range({ key: 'a', rangeEnd: b('e'), sortOrder: 2, sortTarget: 1 }))
  t.equal(byVersion.kvs[0]!.key.toString(), 'b', 'highest version first')
  const noneMod = await backend.kv.range(range({ key: 'a', rangeEnd: b('e'), sortTarget: 3 }))
  t.same(noneMod.kvs.map((kv) => kv.key.toString()), ['a', 'c', 'd', 'b'], 'NONE with a non-key target sorts ascending')
  const counted = await backend.kv.range(range({ key: 'a', rangeEnd: b('e'), countOnly: true }))
  t.equal(counted.count, 4)
  t.equal(counted.kvs.length, 0)
  const keysOnly = await backend.kv.range(range({ key: 'a', keysOnly: true }))
  t.equal(keysOnly.kvs[0]!.value.length, 0)
  const filtered = await backend.kv.range(range({ key: 'a', rangeEnd: b('e'), minModRevision: 4 }))
  t.same(filtered.kvs.map((kv) => kv.key.toString()), ['b', 'c', 'd'])
  t.equal(filtered.count, 4, 'count is taken before filters')
})

t.test('put options and their errors', async (t) => {
  const { backend } = await fresh(t)
  await t.rejects(backend.kv.put(put({ key: '', value: 'x' })), { message: 'etcdserver: key is not provided', grpcCode: 3 })
  await t.rejects(backend.kv.put(put({ key: 'k', value: '', ignoreValue: true })), { message: 'etcdserver: key not found' })
  await t.rejects(backend.kv.put(put({ key: 'k', value: 'v', lease: 5n })), { message: 'etcdserver: requested lease not found', grpcCode: 5 })
  await t.rejects(backend.kv.put(put({ key: 'k', value: 'v', ignoreValue: true })), { message: 'etcdserver: value is provided' })
  await backend.kv.put(put({ key: 'k', value: 'v1' }))
  const ig = await backend.kv.put(put({ key: 'k', value: '', ignoreValue: true, prevKv: true }))
  t.equal(ig.prevKv!.value.toString(), 'v1')
  const r = await backend.kv.range(range({ key: 'k' }))
  t.equal(r.kvs[0]!.value.toString(), 'v1', 'ignore_value keeps the value')
  t.equal(r.kvs[0]!.version, 2)
})

t.test('txn: compares, branches, nested txns and checks', async (t) => {
  const { backend } = await fresh(t)
  await backend.kv.put(put({ key: 'x', value: '1' }))
  const op = (o: RequestOp) => o
  const resp = await backend.kv.txn({
    compare: [cmp('x', { target: CompareTarget.VALUE, value: b('1') })],
    success: [
      op({ kind: 'put', request: put({ key: 'y', value: '2' }) }),
      op({ kind: 'range', request: range({ key: 'y' }) }),
      op({
        kind: 'txn',
        request: { compare: [cmp('y', {})], success: [op({ kind: 'put', request: put({ key: 'z', value: '3' }) })], failure: [] },
      }),
    ],
    failure: [],
  })
  t.equal(resp.succeeded, true)
  t.equal(resp.header.revision, 3, 'one revision for the whole txn')
  const inner = resp.responses[1]!
  t.equal(inner.kind === 'range' && inner.response.kvs[0]!.value.toString(), '2', 'reads its own writes')
  const nested = resp.responses[2]!
  t.equal(nested.kind === 'txn' && nested.response.succeeded, true, 'nested compares see the state before the txn')
  t.equal(nested.kind === 'txn' && nested.response.header.revision, 0, 'nested header is empty')
  const dup = backend.kv.txn({
    compare: [],
    success: [op({ kind: 'put', request: put({ key: 'a', value: '1' }) }), op({ kind: 'put', request: put({ key: 'a', value: '2' }) })],
    failure: [],
  })
  await t.rejects(dup, { message: 'etcdserver: duplicate key given in txn request' })
  const tooMany = backend.kv.txn({
    compare: [],
    success: Array.from({ length: 129 }, (_, i) => op({ kind: 'range', request: range({ key: `k${i}` }) })),
    failure: [],
  })
  await t.rejects(tooMany, { message: 'etcdserver: too many operations in txn request' })
  await t.rejects(backend.kv.txn({ compare: [], success: [{ kind: 'none' }], failure: [] }), {
    message: 'etcdserver: key not found',
  })
  const missingValue = await backend.kv.txn({
    compare: [cmp('missing', { target: CompareTarget.VALUE, result: CompareResult.NOT_EQUAL, value: b('q') })],
    success: [],
    failure: [],
  })
  t.equal(missingValue.succeeded, false, 'a value compare on a missing key fails')
})

t.test('a txn that fails part way leaves nothing behind (etcd 3.4 panics on it)', async (t) => {
  const state = await fresh(t)
  const { backend } = state
  await backend.kv.put(put({ key: 'a/1', value: 'one' }))
  await backend.kv.put(put({ key: 'b', value: 'two' }))
  const txn = backend.kv.txn({
    compare: [],
    success: [
      // deletes every key >= a/1 (range_end "\0" is invisible to etcd's duplicate-key check) ...
      { kind: 'deleteRange', request: { key: b('a/1'), rangeEnd: Buffer.from([0]), prevKv: false } },
      // ... then a nested branch puts one of them with ignore_value: its key existed when checked
      {
        kind: 'txn',
        request: { compare: [cmp('nope', { result: CompareResult.GREATER })], success: [], failure: [{ kind: 'put', request: put({ key: 'b', value: '', ignoreValue: true }) }] },
      },
    ],
    failure: [],
  })
  await t.rejects(txn, { grpcCode: 3, message: 'etcdserver: key not found' })
  const all = await backend.kv.range(range({ key: 'a', rangeEnd: Buffer.from([0]) }))
  t.same(all.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}`), ['a/1=one@2', 'b=two@3'], 'no change was applied')
  t.equal(all.header.revision, 3)
  const next = await backend.kv.put(put({ key: 'b', value: 'three' }))
  t.equal(next.header.revision, 4, 'the next write takes the next revision')
  const reopened = await state.reopen()
  const after = await reopened.kv.range(range({ key: 'a', rangeEnd: Buffer.from([0]) }))
  t.same(after.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}/v${kv.version}`), ['a/1=one@2/v1', 'b=three@4/v2'])
})

t.test('compaction and restart', async (t) => {
  const state = await fresh(t)
  for (let i = 0; i < 5; i++) await state.backend.kv.put(put({ key: 'k', value: `v${i}` }))
  await state.backend.kv.put(put({ key: 'gone', value: 'x' }))
  await state.backend.kv.deleteRange({ key: b('gone'), rangeEnd: Buffer.alloc(0), prevKv: false })
  await state.backend.kv.compact({ revision: 5, physical: true })
  await t.rejects(state.backend.kv.range(range({ key: 'k', revision: 4 })), { grpcCode: 11, message: /compacted/ })
  const at5 = await state.backend.kv.range(range({ key: 'k', revision: 5 }))
  t.equal(at5.kvs[0]!.value.toString(), 'v3', 'reading at the compact revision works')
  await t.rejects(state.backend.kv.compact({ revision: 5, physical: false }), { message: /compacted/ })
  await t.rejects(state.backend.kv.compact({ revision: 100, physical: false }), { message: /future revision/ })
  await state.backend.kv.compact({ revision: 8, physical: true })
  const reopened = await state.reopen()
  const r = await reopened.kv.range(range({ key: 'k' }))
  t.equal(r.header.revision, 8, 'current revision survives even when compaction removed its rows')
  t.match(r.kvs[0], { modRevision: 6, version: 5 })
  await t.rejects(reopened.kv.range(range({ key: 'k', revision: 7 })), { message: /compacted/ })
  t.equal((await reopened.kv.range(range({ key: 'gone' }))).count, 0)
  const next = await reopened.kv.put(put({ key: 'k', value: 'after' }))
  t.equal(next.header.revision, 9)
})
