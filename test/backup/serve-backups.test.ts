/**
 * `etcdgw serve --backup-schedule … --backup-dir …`: the server backs up its own store with the backup code
 * of `etcdgw backup run`, shows the metrics on its /metrics, and the latest backup restored answers as the
 * server did.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { listBackups } from '../../src/backup/backup-files.js'
import { startGateway } from '../helpers/gateway.js'
import { send } from '../helpers/http.js'
import { S3_CREDENTIALS, startS3Server } from '../helpers/s3-server.js'
import { applyWorkload, etcdgw, rangeAll, sameHistory } from '../helpers/snapshot-workload.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('serve backs up its embedded store on a schedule', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-serve-backups-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const dir = join(tmp, 'backups')
  const gw = await startGateway({ teardown: t, flags: ['--backup-schedule', '* * * * * *', '--backup-dir', dir, '--backup-keep', '2'] })
  await applyWorkload(gw.url)
  const current = Number((await rangeAll(gw.url, 0)).body.header!.revision)

  let verified: ReturnType<typeof listBackups> = []
  for (const deadline = Date.now() + 30_000; !verified.some((e) => e.record!.revision === current) && Date.now() < deadline; ) {
    await sleep(100)
    verified = existsSync(dir) ? listBackups(dir).filter((e) => e.record) : []
  }
  t.ok(verified.some((e) => e.record!.revision === current), `a backup at revision ${current}`)
  await sleep(2_500)
  const metrics = (await send(gw.url, '/metrics', '', { method: 'GET' })).body
  t.match(metrics, /^etcdgw_backup_last_attempt_success 1$/m)
  t.match(metrics, /^etcdgw_backup_schedule_interval_seconds 1$/m)
  t.match(metrics, new RegExp(`^etcdgw_backup_last_revision ${current}$`, 'm'))
  t.match(metrics, /^etcd_mvcc_db_total_size_in_bytes /m, 'beside the server\'s own metrics')

  // the server paused while its latest backup is restored: two backups more, a second each, and it is deleted
  const dataDir = join(tmp, 'restored')
  process.kill(gw.pid, 'SIGSTOP')
  const restored = await etcdgw(['backup', 'restore', 'latest', '--dir', dir, '--data-dir', dataDir]).finally(() => process.kill(gw.pid, 'SIGCONT'))
  t.equal(restored.code, 0, restored.stderr)
  const copy = await startGateway({ teardown: t, flags: ['--data-dir', dataDir] })
  await sameHistory(t, gw.url, copy.url, 'served → backup → restored')

  // stopped (after the backup under way, if any), the schedule has gone on: one a second, two kept
  await gw.stopGracefully()
  const kept = listBackups(dir)
  t.equal(kept.length, 2, kept.map((e) => e.name).join(' '))
  t.ok(kept.every((e) => e.record), 'both verified')
  t.ok(kept[1]!.time.getTime() - verified[0]!.time.getTime() >= 2_000, 'and went on after the first')
})

t.test('the backup flags are checked before anything starts', async (t) => {
  const cases: Array<[string[], string]> = [
    [['--backup-dir', '/tmp/x'], 'etcdgw serve: --backup-dir, --backup-s3-bucket and the --backup-keep flags need --backup-schedule\n'],
    [['--backup-s3-bucket', 'b'], 'etcdgw serve: --backup-dir, --backup-s3-bucket and the --backup-keep flags need --backup-schedule\n'],
    [['--backup-schedule', '@every 1h'], 'etcdgw serve: --backup-schedule needs --backup-dir, --backup-s3-bucket or both\n'],
    [['--backup-schedule', '@every 1h', '--backup-s3-bucket', 'b', '--backup-s3-sse-kms-key-id', 'k'], 'etcdgw serve: --backup-s3-sse-kms-key-id needs --backup-s3-sse aws:kms\n'],
    [['--backup-schedule', '@every 1h', '--backup-s3-bucket', 'b', '--backup-s3-part-size', '1MiB'], /--backup-s3-part-size: a size of 5MiB or more/],
    [['--backup-schedule', 'soon', '--backup-dir', '/tmp/x'], /^etcdgw serve: --backup-schedule "soon": /],
    [['--backup-schedule', '@every 1h', '--backup-dir', '/tmp/x', '--backup-keep-for', 'a week'], 'etcdgw serve: --backup-keep-for: "a week" is not a positive duration (e.g. 10m, 5s, 500ms)\n'],
  ] as never
  for (const [flags, message] of cases) {
    const r = await etcdgw(['serve', '--listen-client-urls', 'http://127.0.0.1:1', ...flags])
    t.equal(r.code, 2, flags.join(' '))
    t.match(r.stderr, message)
  }
})

t.test('serve keeps its backups in an S3 bucket alone (--backup-s3-*): listed, verified, restored from there', async (t) => {
  Object.assign(process.env, S3_CREDENTIALS)
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-serve-backups-s3-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const s3 = await startS3Server({ teardown: t })
  const bucketFlags = s3.flags.map((f) => f.replace(/^--s3-/, '--backup-s3-'))
  const gw = await startGateway({ teardown: t, flags: ['--backup-schedule', '* * * * * *', ...bucketFlags, '--backup-s3-prefix', 'served'] })
  await applyWorkload(gw.url)
  const current = Number((await rangeAll(gw.url, 0)).body.header!.revision)
  let listed: Array<{ where: string; verified: boolean; revision?: number; paths: string[] }> = []
  for (let i = 0; i < 100 && !listed.some((b) => b.verified && b.revision === current); i++) {
    await sleep(100)
    listed = (JSON.parse((await send(gw.url, '/backups', '', { method: 'GET' })).body) as { backups: typeof listed }).backups
  }
  const latest = listed.filter((b) => b.verified && b.revision === current).at(-1)
  t.ok(latest, `a verified backup at revision ${current} in the bucket`)
  t.equal(latest?.where, 's3')
  t.match(latest?.paths[0], /^s3:\/\/backups\/served\/snapshot-\d{8}-\d{6}\.db$/)
  const verified = await send(gw.url, '/backups/verify', '{"name":"latest"}')
  t.equal(verified.status, 200, verified.body)
  t.match(JSON.parse(verified.body), { copies: [{ store: 's3://backups/served/' }] })

  const dataDir = join(tmp, 'restored')
  const restored = await etcdgw(['backup', 'restore', 'latest', ...s3.flags, '--s3-prefix', 'served', '--data-dir', dataDir])
  t.equal(restored.code, 0, restored.stderr)
  await gw.stopGracefully()
  const copy = await startGateway({ teardown: t, flags: ['--data-dir', dataDir] })
  const answer = await rangeAll(copy.url, 0)
  t.equal(Number(answer.body.header!.revision) >= current, true, 'the restored store is at the backup\'s revision or later')
})

