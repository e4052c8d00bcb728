/**
 * A snapshot taken from a real etcd: `etcdgw snapshot status` prints what etcdctl prints, `snapshot get`
 * answers as etcd did, and `snapshot restore` makes a data dir whose `etcdgw serve` answers every range
 * at every revision as that etcd. Restore refuses what etcdctl refuses, with a clear message.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { startGateway } from '../helpers/gateway.js'
import { applyWorkload, etcdctl, etcdgw, sameHistory } from '../helpers/snapshot-workload.js'

const missing = etcdMissing()

t.test('an etcd snapshot in etcdgw', { skip: missing }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-etcd-snap-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const etcd = await startEtcd({ teardown: t, fastElection: true })
  const compactRev = await applyWorkload(etcd.url)
  const file = join(tmp, 'etcd.db')
  const saved = await etcdctl(['--endpoints', etcd.url, 'snapshot', 'save', file])
  t.equal(saved.code, 0, saved.stderr)

  t.test("save through etcd's own gateway, which answers JSON lines whatever the Accept", async (t) => {
    const viaGateway = join(tmp, 'via-gateway.db')
    const ours = await etcdgw(['snapshot', 'save', viaGateway, '--endpoints', etcd.url])
    t.equal(ours.code, 0, ours.stderr)
    const [theirs, status] = await Promise.all([etcdctl(['snapshot', 'status', file, '-w', 'json']), etcdctl(['snapshot', 'status', viaGateway, '-w', 'json'])])
    t.same(JSON.parse(status.stdout), JSON.parse(theirs.stdout), 'the same db as etcdctl saved')
  })

  t.test('status prints what etcdctl prints', async (t) => {
    for (const format of ['simple', 'table', 'json']) {
      const [theirs, ours] = await Promise.all([etcdctl(['snapshot', 'status', file, '-w', format]), etcdgw(['snapshot', 'status', file, '-w', format])])
      t.equal(ours.code, 0, ours.stderr)
      t.equal(ours.stdout, theirs.stdout, `-w ${format}`)
    }
  })

  t.test('get answers from the file as etcd answered', async (t) => {
    const current = Number(JSON.parse((await etcdctl(['--endpoints', etcd.url, 'get', 'a', '-w', 'json'])).stdout).header.revision)
    for (const args of [['a'], ['', '--prefix'], ['leased/', '--prefix', '--keys-only'], ['a', 'u'], ['t', '--prefix', '--rev', String(compactRev + 1)]]) {
      const [theirs, ours] = await Promise.all([etcdctl(['--endpoints', etcd.url, 'get', ...args]), etcdgw(['snapshot', 'get', file, ...args])])
      t.equal(ours.code, 0, ours.stderr)
      t.equal(ours.stdout, theirs.stdout, `get ${args.join(' ')}`)
    }
    const json = JSON.parse((await etcdgw(['snapshot', 'get', file, 'a', '-w', 'json'])).stdout)
    t.equal(json.header.revision, current, '-w json: the snapshot\'s revision in the header')
    const compacted = await etcdgw(['snapshot', 'get', file, 'a', '--rev', String(compactRev - 1)])
    t.same([compacted.code, compacted.stderr.trim()], [1, 'Error: etcdserver: mvcc: required revision has been compacted'])
  })

  t.test('restore: etcdgw serve answers every range at every revision as etcd', async (t) => {
    const dataDir = join(tmp, 'restored')
    const restored = await etcdgw(['snapshot', 'restore', file, '--data-dir', dataDir])
    t.equal(restored.code, 0, restored.stderr)
    t.equal(statSync(dataDir).mode & 0o777, 0o700, 'the data dir is 0700, as etcd makes its own')
    const gw = await startGateway({ teardown: t, flags: ['--data-dir', dataDir] })
    await sameHistory(t, etcd.url, gw.url, 'etcd → etcdgw')
  })

  t.test('restore gives the member and cluster IDs etcdctl gives', async (t) => {
    const flags = ['--name', 'm1', '--initial-cluster', 'm1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381', '--initial-cluster-token', 'tok']
    const ours = await etcdgw(['snapshot', 'restore', file, '--data-dir', join(tmp, 'ids-ours'), ...flags])
    t.equal(ours.code, 0, ours.stderr)
    const theirs = await etcdctl(['snapshot', 'restore', file, '--data-dir', join(tmp, 'ids-etcd'), ...flags, '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'])
    t.equal(theirs.code, 0, theirs.stderr)
    // etcdctl logs each member it adds with its peer URLs
    const added = [...theirs.stderr.matchAll(/"cluster-id":"([0-9a-f]+)".*"added-peer-id":"([0-9a-f]+)","added-peer-peer-urls":\["([^"]+)"\]/g)]
    const own = added.find((m) => m[3] === 'http://127.0.0.1:2380')
    t.ok(own, theirs.stderr)
    t.match(ours.stdout, `(member ${own![2]}, cluster ${own![1]})`)
  })

  t.test('restore refuses an existing data dir, a file and a dangling link, with a message and no stack', async (t) => {
    const existing = join(tmp, 'existing')
    mkdirSync(existing)
    const aFile = join(tmp, 'a-file')
    writeFileSync(aFile, 'x')
    const dangling = join(tmp, 'dangling')
    symlinkSync(join(tmp, 'nowhere'), dangling)
    const cases: Array<[string, RegExp]> = [
      [existing, /^Error: snapshot restore: data-dir ".*existing" exists\n$/],
      [aFile, /^Error: snapshot restore: data-dir ".*a-file" exists and is not a directory\n$/],
      [dangling, /^Error: snapshot restore: data-dir ".*dangling" is a symbolic link to ".*nowhere", which does not exist\n$/],
    ]
    for (const [dir, message] of cases) {
      const r = await etcdgw(['snapshot', 'restore', file, '--data-dir', dir])
      t.equal(r.code, 1)
      t.match(r.stderr, message)
    }
    const noTrailer = join(tmp, 'no-trailer.db')
    const db = readFileSync(file)
    writeFileSync(noTrailer, db.subarray(0, db.length - 32))
    const refused = await etcdgw(['snapshot', 'restore', noTrailer, '--data-dir', join(tmp, 'nt')])
    t.match(refused.stderr, /snapshot missing hash but --skip-hash-check=false/)
    const skipped = await etcdgw(['snapshot', 'restore', noTrailer, '--data-dir', join(tmp, 'nt'), '--skip-hash-check'])
    t.equal(skipped.code, 0, skipped.stderr)
  })
})
