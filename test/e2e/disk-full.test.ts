import t from 'tap'
import { createHash } from 'node:crypto'
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MvccStore } from '../../src/backend/embedded/mvcc-store.js'
import { restoreSnapshot } from '../../src/snapshot/restore.js'
import { post } from '../helpers/http.js'
import { startServe, type ServeProcess } from '../helpers/serve-process.js'
import { snapshotDb } from '../helpers/key-bucket-shapes.js'
import { tempDir } from '../helpers/temp-dir.js'
import { cannotMount, fill, smallDisk } from '../helpers/tmpfs.js'

const NOSPACE = { error: 'etcdserver: mvcc: database space exceeded', message: 'etcdserver: mvcc: database space exceeded', code: 8 }
const b64 = (s: string) => Buffer.from(s).toString('base64')

async function stop(server: ServeProcess): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  return exited
}

t.test("a full disk: etcd's NOSPACE (alarm, writes refused, reads served), no crash, writes resume after space is freed and the alarm disarmed", { skip: cannotMount() }, async (t) => {
  const disk = smallDisk(t, 48)
  const server = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', join(disk, 'data')])
  t.teardown(() => stop(server))
  const put = (key: string, value: string) => post(server.url, '/v3/kv/put', JSON.stringify({ key: b64(key), value: b64(value) }))
  const revision = (body: string) => Number((JSON.parse(body) as { header: { revision: string } }).header.revision)

  const first = await put('kept', 'v')
  t.equal(first.status, 200)
  const filler = fill(disk, 512 * 1024)

  const refused = await put('more', 'x'.repeat(1000))
  t.same([refused.status, JSON.parse(refused.body)], [429, NOSPACE], "a put gets etcd's NOSPACE error")
  const grant = await post(server.url, '/v3/lease/grant', '{"TTL":60}')
  t.same([grant.status, JSON.parse(grant.body)], [429, NOSPACE], 'so does a lease grant')
  const alarms = await post(server.url, '/v3/maintenance/alarm', '{"action":"GET"}')
  t.match(JSON.parse(alarms.body), { alarms: [{ alarm: 'NOSPACE' }] }, 'the alarm is raised')
  const read = await post(server.url, '/v3/kv/range', JSON.stringify({ key: b64('kept') }))
  t.equal(read.status, 200, 'reads are served')
  t.equal(JSON.parse(read.body).kvs[0].value, b64('v'))
  t.equal(revision(read.body), revision(first.body), 'the refused writes made no revision')

  // writes that pass the check together and fail in lmdb's transaction are refused the same way
  rmSync(filler)
  const memberId = JSON.parse(alarms.body).alarms[0].memberID as string
  const disarm = () => post(server.url, '/v3/maintenance/alarm', JSON.stringify({ action: 'DEACTIVATE', memberID: memberId, alarm: 'NOSPACE' }))
  t.equal((await disarm()).status, 200)
  fill(disk, 4_700_000)
  const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => put(`big${i}`, 'b'.repeat(300_000))))
  t.ok(burst.some((r) => r.status === 429), 'the burst is stopped by NOSPACE')
  t.same(burst.filter((r) => r.status !== 200 && r.status !== 429).map((r) => r.body), [], 'and by nothing else')
  t.equal(server.child.exitCode, null, 'the server is still running')
  const stored = burst.filter((r) => r.status === 200).map((r) => revision(r.body))

  rmSync(join(disk, 'filler'))
  t.equal((await disarm()).status, 200)
  const resumed = await put('after', 'v')
  t.equal(resumed.status, 200, 'writes resume once space is freed and the alarm disarmed')
  t.equal(revision(resumed.body), revision(first.body) + stored.length + 1, 'at the next revision: none was lost or skipped')
  t.equal(await stop(server), 0, 'and it stops cleanly')
})

/** A snapshot file of the embedded store with `values` values of 50,000 bytes, written into `dir`. */
async function snapshotFile(dir: string, values: number): Promise<string> {
  const store = await MvccStore.open(join(dir, 'data'))
  for (let i = 0; i < values / 10; i++) {
    const txn = store.write()
    for (let j = 0; j < 10; j++) txn.put(Buffer.from(`big/${i}/${j}`), Buffer.alloc(50_000, i), 0n)
    await txn.end()
  }
  const file = join(dir, 'snapshot.db')
  try {
    const db = await snapshotDb(store)
    writeFileSync(file, Buffer.concat([db, createHash('sha256').update(db).digest()]))
  } finally {
    await store.close()
  }
  return file
}

// ~20 MB is restored on one thread, ~40 MB with lmdb on a thread of its own
for (const values of [400, 800]) {
  t.test(`a restore of ${values * 50_000} bytes onto a disk too small fails with the disk error and leaves nothing there`, { skip: cannotMount() }, async (t) => {
    const file = await snapshotFile(tempDir(t), values)
    const disk = smallDisk(t, 8)
    const flags = { name: 'default', initialCluster: 'default=http://localhost:2380', initialClusterToken: 'etcd-cluster', skipHashCheck: false }
    await t.rejects(
      restoreSnapshot(file, { ...flags, dataDir: join(disk, 'restored') }),
      { code: 'ETCDGW_ERR_RESTORE_WRITE_FAILED', message: /^snapshot restore: writing .*restoring-.*\/member\/store\.mdb failed: .+ \(0 bytes free on its file system\)$/ },
      'the disk error, and the disk full',
    )
    t.same(readdirSync(disk), [], 'neither the data dir nor its work dir is left')
    const roomy = tempDir(t)
    await restoreSnapshot(file, { ...flags, dataDir: join(roomy, 'restored') })
    t.ok(statSync(join(roomy, 'restored')).isDirectory(), 'the same file restores where there is room')
  })
}
