/**
 * Backups of a real etcd: verified and recorded as etcdctl reports them, restored into the embedded store
 * answering as etcd did, damage caught, retention applied, an unwritable destination reported with nothing
 * deleted, and a backup killed mid-write leaving no half file among the backups.
 */
import { createHash } from 'node:crypto'
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { SnapshotChunk } from '../../src/backend/backend.js'
import { listBackups } from '../../src/backup/backup-files.js'
import { type BackupLog, BackupService } from '../../src/backup/backup-service.js'
import { etcdSource, type SnapshotSource } from '../../src/backup/sources.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { MAIN_JS, startGateway } from '../helpers/gateway.js'
import { startByteGate } from '../helpers/byte-gate.js'
import { post } from '../helpers/http.js'
import { cannotMount, fill, smallDisk } from '../helpers/tmpfs.js'
import { applyWorkload, etcdctl, etcdgw, sameHistory } from '../helpers/snapshot-workload.js'

const missing = etcdMissing()

/** Backups named a minute apart, so several fit in one test second. */
function minutes(start = Date.UTC(2026, 0, 1)) {
  let at = start
  return () => new Date((at += 60_000))
}

function service(source: SnapshotSource, dir: string, extra: Partial<ConstructorParameters<typeof BackupService>[0]> = {}) {
  const lines: Array<{ level: string; fields: Record<string, unknown> }> = []
  const log: BackupLog = (level, fields) => void lines.push({ level, fields })
  return { lines, svc: new BackupService({ source, dir, retention: {}, log, now: minutes(), ...extra }) }
}

/** A stream of `db` as etcd sends it: data chunks, then the sha256 of them all. */
function replay(db: Buffer): SnapshotSource {
  return {
    description: 'a damaged db',
    attempts: 1,
    async *snapshot(): AsyncGenerator<SnapshotChunk> {
      for (let at = 0; at < db.length; at += 32 * 1024) yield { remainingBytes: db.length - at, blob: db.subarray(at, at + 32 * 1024) }
      yield { remainingBytes: 0, blob: createHash('sha256').update(db).digest() }
    },
    close: async () => undefined,
  }
}

t.test('backups of a real etcd', { skip: missing }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-backup-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const etcd = await startEtcd({ teardown: t, fastElection: true })
  await applyWorkload(etcd.url)
  const source = await etcdSource({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
  t.teardown(() => source.close())

  t.test('a backup is verified and recorded as etcdctl snapshot status reports it', async (t) => {
    const dir = join(tmp, 'first')
    const { svc, lines } = service(source, dir)
    const outcome = await svc.backup()
    t.ok(outcome.ok, outcome.ok ? '' : outcome.error.message)
    const [entry] = listBackups(dir)
    t.match(entry, { name: 'snapshot-20260101-000100.db', record: { source: etcd.url } })
    const status = JSON.parse((await etcdctl(['snapshot', 'status', entry!.path, '-w', 'json'])).stdout)
    t.same(
      { hash: entry!.record!.hash, revision: entry!.record!.revision, totalKey: entry!.record!.totalKey, totalSize: entry!.record!.totalSize },
      { hash: status.hash, revision: status.revision, totalKey: status.totalKey, totalSize: status.totalSize },
    )
    t.same(readdirSync(dir).sort(), [entry!.name, `${entry!.name}.json`], 'no temp file left')
    t.match(lines, [{ level: 'info', fields: { name: entry!.name, result: 'ok', revision: status.revision, dir } }], 'one log line')
    const metrics = await svc.metrics.registry.metrics()
    t.match(metrics, /^etcdgw_backup_last_attempt_success 1$/m)
    t.match(metrics, new RegExp(`^etcdgw_backup_last_revision ${status.revision}$`, 'm'))
    t.match(metrics, /^etcdgw_backup_kept\{destination=".*first"\} 1$/m)
    const listed = JSON.parse((await etcdgw(['backup', 'list', '--dir', dir, '-w', 'json'])).stdout)
    t.match(listed, [{ name: entry!.name, verified: true, revision: status.revision, totalKey: status.totalKey }])
  })

  t.test('the latest backup restored into the embedded store answers every range at every revision as etcd', async (t) => {
    const dir = join(tmp, 'first')
    const dataDir = join(tmp, 'restored')
    const restored = await etcdgw(['backup', 'restore', 'latest', '--dir', dir, '--data-dir', dataDir])
    t.equal(restored.code, 0, restored.stderr)
    t.match(restored.stdout, /^restored snapshot-20260101-000100\.db into /)
    const gw = await startGateway({ teardown: t, flags: ['--data-dir', dataDir] })
    await sameHistory(t, etcd.url, gw.url, 'etcd → backup → etcdgw')
  })

  t.test('backup restore prints the etcdctl commands for each member, and they work', async (t) => {
    const dir = join(tmp, 'first')
    const cluster = 'm1=http://127.0.0.1:2380,m2=http://127.0.0.1:2381'
    const printed = await etcdgw(['backup', 'restore', 'latest', '--dir', dir, '--data-dir', join(tmp, 'm.etcd'), '--name', 'm1', '--initial-cluster', cluster, '--initial-advertise-peer-urls', 'http://127.0.0.1:2380'])
    t.equal(printed.code, 0, printed.stderr)
    const commands = printed.stdout.split('\n').filter((l) => l.startsWith('ETCDCTL_API=3 etcdctl '))
    t.equal(commands.length, 2, printed.stdout)
    t.match(commands[1], `--name m2 --initial-cluster ${cluster} --initial-cluster-token etcd-cluster --initial-advertise-peer-urls http://127.0.0.1:2381`)
    const args = commands[0]!.replace('ETCDCTL_API=3 etcdctl ', '').split(' ')
    const ran = await etcdctl(args)
    t.equal(ran.code, 0, ran.stderr)
    t.ok(existsSync(join(tmp, 'm.etcd', 'member', 'snap', 'db')), 'etcdctl restored the member')
    const wrong = await etcdgw(['backup', 'restore', 'latest', '--dir', dir, '--data-dir', join(tmp, 'x'), '--name', 'm1', '--initial-cluster', cluster, '--initial-advertise-peer-urls', 'http://127.0.0.1:9999'])
    t.same([wrong.code, wrong.stderr], [1, `Error: --initial-advertise-peer-urls http://127.0.0.1:9999 are not m1's URLs in --initial-cluster (http://127.0.0.1:2380)\n`])
  })

  t.test('backup verify catches a damaged file, with or without a matching trailer', async (t) => {
    const dir = join(tmp, 'damaged')
    mkdirSync(dir)
    const [entry] = listBackups(join(tmp, 'first'))
    const name = entry!.name
    copyFileSync(entry!.path, join(dir, name))
    copyFileSync(`${entry!.path}.json`, join(dir, `${name}.json`))
    const ok = await etcdgw(['backup', 'verify', 'latest', '--dir', dir])
    t.equal(ok.code, 0, ok.stderr)
    const bytes = readFileSync(join(dir, name))
    bytes[bytes.length - 1000]! ^= 0xff
    writeFileSync(join(dir, name), bytes)
    const flipped = await etcdgw(['backup', 'verify', name, '--dir', dir])
    t.same([flipped.code, flipped.stderr], [1, `Error: snapshot: ${join(dir, name)}: sha256 mismatch: the snapshot is damaged or incomplete\n`])
    // the same damage with the trailer made to match: the record no longer does
    const data = bytes.subarray(0, bytes.length - 32)
    writeFileSync(join(dir, name), Buffer.concat([data, createHash('sha256').update(data).digest()]))
    const resealed = await etcdgw(['backup', 'verify', name, '--dir', dir])
    t.equal(resealed.code, 1)
    t.match(resealed.stderr, /^Error: snapshot: /)
    const missingOne = await etcdgw(['backup', 'verify', 'snapshot-20200101-000000.db', '--dir', dir])
    t.same([missingOne.code, missingOne.stderr], [1, `Error: backup: no backup named snapshot-20200101-000000.db in ${dir}\n`])
  })

  t.test('a snapshot that fails verification is a failure: removed, counted, nothing deleted', async (t) => {
    const dir = join(tmp, 'verify-fails')
    const good = service(source, dir, { retention: { keep: 1 } })
    t.ok((await good.svc.backup()).ok)
    const db = readFileSync(listBackups(dir)[0]!.path).subarray(0, -32)
    const pageSize = 4096
    for (let page = 2; page * pageSize < db.length; page++) db.writeBigUInt64LE(0xdeadn, page * pageSize)
    const bad = service(replay(db), dir, { retention: { keep: 1 }, now: minutes(Date.UTC(2026, 5, 1)) })
    const outcome = await bad.svc.backup()
    t.match(outcome, { ok: false, reason: 'verify', name: 'snapshot-20260601-000100.db' })
    t.match(bad.lines, [{ level: 'error', fields: { result: 'failed', reason: 'verify', error: /^snapshot: .*page/ } }])
    t.same(listBackups(dir).map((e) => e.name), ['snapshot-20260101-000100.db'], 'the earlier backup kept, the bad one gone')
    t.same(readdirSync(dir).length, 2, 'nothing else left')
    t.match(await bad.svc.metrics.registry.metrics(), /^etcdgw_backup_failures_total\{reason="verify"\} 1$/m)
  })

  t.test('retention runs after each verified backup', async (t) => {
    const dir = join(tmp, 'retention')
    const { svc, lines } = service(source, dir, { retention: { keep: 2 } })
    for (let i = 0; i < 4; i++) t.ok((await svc.backup()).ok)
    t.same(listBackups(dir).map((e) => e.name), ['snapshot-20260101-000300.db', 'snapshot-20260101-000400.db'])
    t.same(lines.map((l) => l.fields.deleted), [[], [], ['snapshot-20260101-000100.db'], ['snapshot-20260101-000200.db']])
  })

  t.test('backup now --verify-restore also restores the backup into a temporary embedded store', async (t) => {
    const dir = join(tmp, 'verify-restore')
    const r = await etcdgw(['backup', 'now', '--endpoints', etcd.url, '--dir', dir, '--verify-restore'])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^snapshot-\d{8}-\d{6}\.db: revision \d+, \d+ keys, .*, verified and restored \(hash [0-9a-f]+\)$/m)
    t.match(listBackups(dir), [{ record: { restoreVerified: true } }])
    t.same(readdirSync(tmpdir()).filter((f) => f.startsWith('etcdgw-verify-restore-')), [], 'the temporary store removed')
  })

  t.test('an unwritable or full destination is reported and nothing is deleted', { skip: cannotMount() }, async (t) => {
    for (const [what, spoil, code] of [
      ['read-only', (dir: string) => spawnSync('mount', ['-o', 'remount,ro', dir]).status === 0, 'EROFS'],
      ['full', (dir: string) => fill(dir, 4096) !== '', 'ENOSPC'],
    ] as const) {
      const dir = smallDisk(t, 16)
      const { svc, lines } = service(source, dir, { retention: { keep: 1 } })
      t.ok((await svc.backup()).ok)
      t.ok(spoil(dir), `made ${what}`)
      const outcome = await svc.backup()
      t.match(outcome, { ok: false, reason: 'destination', error: { message: new RegExp(`^backup: writing .*snapshot-20260101-000200\\.db: .*${code}`) } }, what)
      t.equal(lines[1]!.level, 'error')
      t.same(listBackups(dir).map((e) => [e.name, e.record !== undefined]), [['snapshot-20260101-000100.db', true]], `${what}: the backup before is intact`)
      t.notOk(readdirSync(dir).some((f) => f.endsWith('.part')), `${what}: no temp file left`)
      const metrics = await svc.metrics.registry.metrics()
      t.match(metrics, /^etcdgw_backup_failures_total\{reason="destination"\} 1$/m)
      t.match(metrics, /^etcdgw_backup_last_attempt_success 0$/m)
      t.match(metrics, /^etcdgw_backup_last_success_timestamp_seconds 1767225660$/m, 'the last success is still the first backup')
    }
  })

  t.test('kill -9 mid-write: no half file is listed, and the next backup removes it and succeeds', async (t) => {
    // 24 MB of values, of which the writer gets 1 MiB: the snapshot stops part-way, killed there
    for (let i = 0; i < 24; i++) {
      const res = await post(etcd.url, '/v3/kv/put', JSON.stringify({ key: Buffer.from(`big/${i}`).toString('base64'), value: Buffer.alloc(1_000_000, i).toString('base64') }))
      t.equal(res.status, 200)
    }
    const gate = await startByteGate(t, etcd.url, 'toClient', 1 << 20)
    const dir = join(tmp, 'killed')
    mkdirSync(dir)
    const child = spawn(process.execPath, [MAIN_JS, 'backup', 'now', '--endpoints', gate.url, '--dir', dir], { stdio: 'ignore' })
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    const watcher = watch(dir, (_event, file) => {
      if (file?.endsWith('.part')) child.kill('SIGKILL')
    })
    t.equal(await exited, 'SIGKILL')
    watcher.close()
    const left = readdirSync(dir)
    t.match(left, [/^\.snapshot-\d{8}-\d{6}\.db\.\d+\.part$/], 'the half file is there, under its temp name')
    t.same(listBackups(dir), [], 'and is no backup')
    const listed = await etcdgw(['backup', 'list', '--dir', dir, '-w', 'json'])
    t.equal(listed.stdout, '[]\n')
    const next = await etcdgw(['backup', 'now', '--endpoints', etcd.url, '--dir', dir])
    t.equal(next.code, 0, next.stderr)
    const names = readdirSync(dir).sort()
    t.equal(names.length, 2, `the stale temp file removed: ${names.join(' ')}`)
    t.match(listBackups(dir), [{ record: { totalKey: Number } }])
  })
})
