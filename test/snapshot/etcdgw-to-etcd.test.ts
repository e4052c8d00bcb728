/**
 * A snapshot of the embedded store is an etcd db file: real etcdctl checks it (and prints what
 * `etcdgw snapshot status` prints) and restores it, and a real etcd started on that data dir answers
 * every range at every revision, the leases, the compaction and a watch from an old revision as etcdgw
 * does.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { etcdMissing, startRestoredEtcd, startRestoredEtcdCluster } from '../helpers/etcd.js'
import { startGateway } from '../helpers/gateway.js'
import { openHttpStream } from '../helpers/stream-clients.js'
import { applyWorkload, etcdctl, etcdgw, rangeAll, sameHistory } from '../helpers/snapshot-workload.js'

const missing = etcdMissing()

/** The events a watch on every key from `rev` delivers, in order, once `count` have come (or 5 s passed). */
async function watchEvents(url: string, rev: number, count: number): Promise<unknown[]> {
  const stream = openHttpStream(url, '/v3/watch')
  stream.send(JSON.stringify({ create_request: { key: 'AA==', range_end: 'AA==', start_revision: String(rev) } }))
  const events = () => stream.messages.flatMap((m) => (JSON.parse(m) as { result: { events?: unknown[] } }).result.events ?? [])
  for (let waited = 0; events().length < count && waited < 5_000; waited += 50) await new Promise((r) => setTimeout(r, 50))
  stream.close()
  return events()
}

t.test('an etcdgw snapshot in etcd', { skip: missing }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-gw-snap-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const gw = await startGateway({ teardown: t })
  const compactRev = await applyWorkload(gw.url)
  const file = join(tmp, 'etcdgw.db')
  const saved = await etcdgw(['snapshot', 'save', file, '--endpoints', gw.url])
  t.equal(saved.code, 0, saved.stderr)

  for (const format of ['simple', 'table', 'json']) {
    const [theirs, ours] = await Promise.all([etcdctl(['snapshot', 'status', file, '-w', format]), etcdgw(['snapshot', 'status', file, '-w', format])])
    t.equal(theirs.code, 0, theirs.stderr)
    t.equal(ours.stdout, theirs.stdout, `etcdctl snapshot status -w ${format} reads it, as etcdgw does`)
  }

  const dataDir = join(tmp, 'etcd-data')
  const restored = await etcdctl(['snapshot', 'restore', file, '--data-dir', dataDir])
  t.equal(restored.code, 0, restored.stderr)
  const etcd = await startRestoredEtcd(dataDir, t, async (url) => (await rangeAll(url, 0)).status === 200)
  await sameHistory(t, gw.url, etcd.url, 'etcdgw → etcd')

  // the same snapshot restored into a 3-member cluster, as an operator moves to one: every member answers
  // every range at every revision as the embedded store did
  const cluster = await startRestoredEtcdCluster(file, 3, join(tmp, 'cluster'), t)
  for (const [i, member] of cluster.members.entries()) await sameHistory(t, gw.url, member.url, `etcdgw → 3-member etcd, member ${i}`)
  const ours = await watchEvents(gw.url, compactRev, 1_000)
  t.ok(ours.length > 5, `${ours.length} events since the compaction`)
  t.same(await watchEvents(etcd.url, compactRev, ours.length), ours, 'a watch from the compacted revision: the same events')
})
