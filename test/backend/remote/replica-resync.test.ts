/**
 * The replica follows what happens to the cluster behind its back: a compaction through etcdctl, and a
 * restore from a snapshot (revisions go backwards), which makes it start over with no stale answer.
 */
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import type { Backend, WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { EtcdError } from '../../../src/errors.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { put, range, watchCreate } from '../../helpers/requests.js'
import { etcdctl } from '../../helpers/snapshot-workload.js'
import { tempDir } from '../../helpers/temp-dir.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { replicaAnswers } from '../../helpers/replica-answering.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const values = (res: { kvs: { key: Buffer; value: Buffer }[] }) => res.kvs.map((kv) => `${kv.key}=${kv.value}`)

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd({ teardown: t })
  const backend: Backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 5_000, replica: { compactionProbeMs: 100 } })
  t.teardown(() => backend.close())
  t.ok(await replicaAnswers(backend), 'the replica answers')
  const rev = async (key: string, value: string) => (await backend.kv.put(put({ key, value }))).header.revision

  await t.test('a compaction through etcdctl: reads and watches below it answer as etcd does', async (t) => {
    const r1 = await rev('c/k', '1')
    await rev('c/k', '2')
    const r3 = await rev('c/k', '3')
    t.same(values(await backend.kv.range(range({ key: 'c/k', revision: r1 }))), ['c/k=1'], 'a past revision the replica holds')
    const ctl = await etcdctl(['--endpoints', etcd.url, 'compact', String(r3)])
    t.equal(ctl.code, 0, 'etcdctl compact')
    const deadline = Date.now() + 5_000
    let err: unknown
    while (!err && Date.now() < deadline) {
      err = await backend.kv.range(range({ key: 'c/k', revision: r1 })).then(() => undefined, (e: unknown) => e)
      if (!err) await sleep(20)
    }
    t.match(err, new EtcdError('ETCDGW_ERR_COMPACTED', 11, 'etcdserver: mvcc: required revision has been compacted'))
    t.same(values(await backend.kv.range(range({ key: 'c/k', revision: r3 }))), ['c/k=3'], 'the compaction revision still reads')
    const responses: WatchResponse[] = []
    const stream = backend.watch.open((r) => responses.push(r))
    t.teardown(() => stream.close())
    stream.send({ kind: 'create', request: watchCreate({ key: 'c/k', startRevision: r1 }) })
    while (responses.length < 2) await sleep(10)
    t.match(responses[1], { canceled: true, compactRevision: r3 }, "a watch from below it is canceled with etcd's compaction revision")
  })

  await t.test('a restore from a snapshot: revisions go backwards, the replica starts over, no stale answer', async (t) => {
    const dir = tempDir(t)
    await rev('r/before', 'kept')
    const snapshot = join(dir, 'snap.db')
    const saved = await etcdctl(['--endpoints', etcd.url, 'snapshot', 'save', snapshot])
    t.equal(saved.code, 0, 'etcdctl snapshot save')
    for (let i = 0; i < 20; i++) await rev(`r/after/${i}`, 'lost')
    const responses: WatchResponse[] = []
    const stream = backend.watch.open((r) => responses.push(r))
    t.teardown(() => stream.close())
    stream.send({ kind: 'create', request: watchCreate({ key: 'r/', rangeEnd: 'r0' }) })

    // the member's own flags, to restore its data dir as it was created
    const args = readFileSync(`/proc/${etcd.pid}/cmdline`, 'latin1').split('\0')
    const flag = (name: string) => args[args.indexOf(name) + 1]!
    await etcd.kill('SIGTERM')
    rmSync(etcd.dataDir, { recursive: true, force: true })
    const restored = await etcdctl([
      'snapshot', 'restore', snapshot,
      '--data-dir', etcd.dataDir,
      '--name', flag('--name'),
      '--initial-cluster', flag('--initial-cluster'),
      '--initial-cluster-token', flag('--initial-cluster-token'),
      '--initial-advertise-peer-urls', flag('--initial-advertise-peer-urls'),
    ])
    t.equal(restored.code, 0, 'etcdctl snapshot restore')
    await etcd.restart()
    // a write acknowledged by the restored cluster, then a read through the gateway
    const written = await gw.gateway(etcd.url, '/v3/kv/put', { key: gw.b64('r/new'), value: gw.b64('v') })
    t.equal(written.status, 200)
    t.same(
      values(await backend.kv.range(range({ key: 'r/', rangeEnd: 'r0' }))),
      ['r/before=kept', 'r/new=v'],
      'the read sees the write and none of the lost ones',
    )
    const deadline = Date.now() + 10_000
    while (!responses.some((r) => r.canceled) && Date.now() < deadline) await sleep(20)
    t.match(responses.at(-1), { canceled: true }, 'the watch on the replaced history is canceled, as on a compaction')
    // a serializable read is answered at once from the replica, which may have loaded before the write
    // and hear of it a moment later (as a follower's own store may lag): never a lost key, then the write
    const seen: string[][] = []
    const until = Date.now() + 5_000
    while (Date.now() < until && !seen.at(-1)?.includes('r/new=v')) {
      seen.push(values(await backend.kv.range(range({ key: 'r/', rangeEnd: 'r0', serializable: true }))))
      await sleep(10)
    }
    t.same(
      seen.filter((kvs) => kvs.some((kv) => kv.startsWith('r/after/'))),
      [],
      'no serializable read answers with the lost history',
    )
    t.same(seen.at(-1), ['r/before=kept', 'r/new=v'], 'the reloaded replica answers with the restored history')
  })
}
