import t from 'tap'
import { CompareResult, CompareTarget, SortOrder, SortTarget, type Backend, type Compare } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { EtcdError } from '../../../src/errors.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { deleteRange, put, range } from '../../helpers/requests.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd()
  t.teardown(() => etcd.stop())
  const backend: Backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
  t.teardown(() => backend.close())
  const url = etcd.url

  /** The backend's failure as etcd's gateway shows it: code and message. */
  async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
    try {
      await p
    } catch (err) {
      if (err instanceof EtcdError) return { code: err.grpcCode, message: err.message }
      throw err
    }
    throw new Error('expected a failure')
  }
  async function gatewayFailure(path: string, body: unknown) {
    const { json } = await gw.gateway(url, path, body)
    return { code: json.code as number, message: json.message as string }
  }

  for (let i = 0; i < 6; i++) await backend.kv.put(put({ key: `k/${i}`, value: `v${i}`.repeat(i + 1) }))
  await backend.kv.put(put({ key: 'k/2', value: 'again' }))

  await t.test('range: every option answers as etcd gateway does', async (t) => {
    const cases: [Parameters<typeof range>[0], object][] = [
      [{ key: 'k/1' }, { key: gw.b64('k/1') }],
      [{ key: 'k/', rangeEnd: 'k0' }, { key: gw.b64('k/'), range_end: gw.b64('k0') }],
      [{ key: 'k/', rangeEnd: 'k0', limit: 2 }, { key: gw.b64('k/'), range_end: gw.b64('k0'), limit: 2 }],
      [
        { key: 'k/', rangeEnd: 'k0', sortOrder: SortOrder.DESCEND, sortTarget: SortTarget.MOD },
        { key: gw.b64('k/'), range_end: gw.b64('k0'), sort_order: 'DESCEND', sort_target: 'MOD' },
      ],
      [{ key: 'k/', rangeEnd: 'k0', countOnly: true }, { key: gw.b64('k/'), range_end: gw.b64('k0'), count_only: true }],
      [{ key: 'k/', rangeEnd: 'k0', keysOnly: true }, { key: gw.b64('k/'), range_end: gw.b64('k0'), keys_only: true }],
      [{ key: 'k/2', revision: 4 }, { key: gw.b64('k/2'), revision: 4 }],
      [{ key: 'k/', rangeEnd: 'k0', minModRevision: 4 }, { key: gw.b64('k/'), range_end: gw.b64('k0'), min_mod_revision: 4 }],
      [{ key: 'k/', rangeEnd: 'k0', serializable: true }, { key: gw.b64('k/'), range_end: gw.b64('k0'), serializable: true }],
      [{ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) }, { key: 'AA==', range_end: 'AA==' }],
    ]
    for (const [ours, theirs] of cases) {
      const { json } = await gw.gateway(url, '/v3/kv/range', theirs)
      const got = await backend.kv.range(range(ours))
      t.same(got, { header: gw.header(json.header), kvs: (json.kvs ?? []).map(gw.keyValue), more: json.more ?? false, count: Number(json.count ?? 0) }, JSON.stringify(theirs))
    }
  })

  await t.test('put and delete: same answers as etcd gateway, one revision later', async (t) => {
    const theirs = (await gw.gateway(url, '/v3/kv/put', { key: gw.b64('p'), value: gw.b64('1'), prev_kv: true })).json
    const ours = await backend.kv.put(put({ key: 'p', value: '2', prevKv: true }))
    t.equal(ours.header.revision, gw.header(theirs.header).revision + 1)
    t.same({ ...ours.header, revision: 0 }, { ...gw.header(theirs.header), revision: 0 })
    t.same(ours.prevKv, gw.keyValue((await gw.gateway(url, '/v3/kv/range', { key: gw.b64('p'), revision: ours.header.revision - 1 })).json.kvs[0]))
    const ignore = await backend.kv.put(put({ key: 'p', ignoreValue: true, prevKv: true }))
    t.same(ignore.prevKv?.value, Buffer.from('2'))
    const del = await backend.kv.deleteRange(deleteRange({ key: 'k/', rangeEnd: 'k0', prevKv: true }))
    t.equal(del.deleted, 6)
    t.same(del.prevKvs.map((kv) => kv.key.toString()), ['k/0', 'k/1', 'k/2', 'k/3', 'k/4', 'k/5'])
    const none = await backend.kv.deleteRange(deleteRange({ key: 'absent' }))
    const gwNone = (await gw.gateway(url, '/v3/kv/deleterange', { key: gw.b64('absent') })).json
    t.same(none, { header: gw.header(gwNone.header), deleted: 0, prevKvs: [] })
  })

  await t.test('txn: compares, both branches, nested txn', async (t) => {
    await backend.kv.put(put({ key: 't', value: 'x' }))
    const cmp = (target: CompareTarget, fields: Partial<Compare>): Compare => ({
      result: CompareResult.EQUAL,
      target,
      key: Buffer.from('t'),
      rangeEnd: Buffer.alloc(0),
      version: 0,
      createRevision: 0,
      modRevision: 0,
      value: Buffer.alloc(0),
      lease: 0n,
      ...fields,
    })
    const readOnly = {
      compare: [cmp(CompareTarget.VALUE, { value: Buffer.from('x') }), cmp(CompareTarget.LEASE, { lease: 0n })],
      success: [{ kind: 'range' as const, request: range({ key: 't' }) }],
      failure: [],
    }
    const ours = await backend.kv.txn(readOnly)
    const { json } = await gw.gateway(url, '/v3/kv/txn', {
      compare: [
        { key: gw.b64('t'), target: 'VALUE', value: gw.b64('x') },
        { key: gw.b64('t'), target: 'LEASE', lease: 0 },
      ],
      success: [{ request_range: { key: gw.b64('t') } }],
    })
    t.same(ours, {
      header: gw.header(json.header),
      succeeded: true,
      responses: [
        {
          kind: 'range',
          response: {
            header: gw.header(json.responses[0].response_range.header),
            kvs: json.responses[0].response_range.kvs.map(gw.keyValue),
            more: false,
            count: 1,
          },
        },
      ],
    })
    const write = await backend.kv.txn({
      compare: [cmp(CompareTarget.VERSION, { result: CompareResult.GREATER, version: 5 })],
      success: [],
      failure: [
        { kind: 'put', request: put({ key: 't', value: 'y', prevKv: true }) },
        { kind: 'txn', request: { compare: [], success: [{ kind: 'deleteRange', request: deleteRange({ key: 'nothing' }) }], failure: [] } },
      ],
    })
    t.equal(write.succeeded, false)
    t.same(write.responses.map((r) => r.kind), ['put', 'txn'])
    const first = write.responses[0]
    t.same(first?.kind === 'put' ? first.response.prevKv?.value : undefined, Buffer.from('x'))
  })

  await t.test('errors: the code and text of etcd gateway', async (t) => {
    const big = Buffer.alloc(1.6 * 1024 * 1024, 'a')
    const cases: [() => Promise<unknown>, string, unknown][] = [
      [() => backend.kv.put(put({ key: '', value: 'v' })), '/v3/kv/put', { value: gw.b64('v') }],
      [() => backend.kv.range(range({ key: '' })), '/v3/kv/range', {}],
      [() => backend.kv.range(range({ key: 'p', revision: 1_000_000 })), '/v3/kv/range', { key: gw.b64('p'), revision: 1_000_000 }],
      [() => backend.kv.put(put({ key: 'p', value: 'v', lease: 12345n })), '/v3/kv/put', { key: gw.b64('p'), value: gw.b64('v'), lease: 12345 }],
      [() => backend.kv.put(put({ key: 'p', value: big })), '/v3/kv/put', { key: gw.b64('p'), value: big.toString('base64') }],
      [() => backend.lease.revoke(4242n), '/v3/lease/revoke', { ID: 4242 }],
      [() => backend.lease.grant({ ttl: 10_000_000_000, id: 0n }), '/v3/lease/grant', { TTL: 10_000_000_000 }],
    ]
    for (const [ours, path, body] of cases) t.same(await failure(ours()), await gatewayFailure(path, body), `${path} ${JSON.stringify(body).slice(0, 80)}`)
    const rev = (await backend.kv.put(put({ key: 'c', value: '1' }))).header.revision
    await backend.kv.put(put({ key: 'c', value: '2' }))
    const compacted = await backend.kv.compact({ revision: rev + 1, physical: true })
    t.equal(compacted.header.revision, rev + 1)
    t.same(await failure(backend.kv.range(range({ key: 'c', revision: rev }))), await gatewayFailure('/v3/kv/range', { key: gw.b64('c'), revision: rev }))
    t.same(await failure(backend.kv.compact({ revision: rev, physical: false })), await gatewayFailure('/v3/kv/compaction', { revision: rev }))
  })

  await t.test('lease: grant, keepalive, time-to-live, leases, revoke as etcd', async (t) => {
    const granted = await backend.lease.grant({ ttl: 30, id: 0x7fff_ffff_ffff_fff0n })
    t.equal(granted.id, 0x7fff_ffff_ffff_fff0n, 'a 63-bit ID keeps every bit')
    t.equal(granted.ttl, 30)
    t.same(await failure(backend.lease.grant({ ttl: 30, id: granted.id })), await gatewayFailure('/v3/lease/grant', { TTL: 30, ID: granted.id.toString() }))
    await backend.kv.put(put({ key: 'leased', value: 'v', lease: granted.id }))
    const ttl = await backend.lease.timeToLive({ id: granted.id, keys: true })
    const gwTtl = (await gw.gateway(url, '/v3/lease/timetolive', { ID: granted.id.toString(), keys: true })).json
    t.same({ ...ttl, ttl: 0 }, { header: gw.header(gwTtl.header), id: BigInt(gwTtl.ID), ttl: 0, grantedTtl: Number(gwTtl.grantedTTL), keys: gwTtl.keys.map((k: string) => Buffer.from(k, 'base64')) })
    t.ok(ttl.ttl > 25 && ttl.ttl <= 30)
    const unknown = await backend.lease.timeToLive({ id: 424242n, keys: false })
    t.same({ id: unknown.id, ttl: unknown.ttl }, { id: 424242n, ttl: -1 })
    const kas = await Promise.all([granted.id, granted.id, 99n, granted.id].map((id) => backend.lease.keepAlive(id)))
    t.same(kas.map((k) => [k.id, k.ttl]), [[granted.id, 30], [granted.id, 30], [99n, 0], [granted.id, 30]])
    t.equal(kas[0]!.header.memberId, ttl.header.memberId)
    const list = await backend.lease.leases()
    const gwList = (await gw.gateway(url, '/v3/lease/leases', {})).json
    t.same(new Set(list.leases.map((l) => l.id)), new Set(gwList.leases.map((l: { ID: string }) => BigInt(l.ID))))
    const revoked = await backend.lease.revoke(granted.id)
    t.same((await backend.kv.range(range({ key: 'leased' }))).kvs, [])
    t.equal((await backend.lease.timeToLive({ id: granted.id, keys: false })).ttl, -1)
    t.ok(revoked.header.revision > 0)
  })
}
