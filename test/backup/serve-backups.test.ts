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
  for (let i = 0; i < 100 && !verified.some((e) => e.record!.revision === current); i++) {
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

  const dataDir = join(tmp, 'restored')
  const restored = await etcdgw(['backup', 'restore', 'latest', '--dir', dir, '--data-dir', dataDir])
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
    [['--backup-dir', '/tmp/x'], 'etcdgw serve: --backup-dir and the --backup-keep flags need --backup-schedule\n'],
    [['--backup-schedule', '@every 1h'], 'etcdgw serve: --backup-schedule needs --backup-dir\n'],
    [['--backup-schedule', 'soon', '--backup-dir', '/tmp/x'], /^etcdgw serve: --backup-schedule "soon": /],
    [['--backup-schedule', '@every 1h', '--backup-dir', '/tmp/x', '--backup-keep-for', 'a week'], 'etcdgw serve: --backup-keep-for: "a week" is not a positive duration (e.g. 10m, 5s, 500ms)\n'],
  ] as never
  for (const [flags, message] of cases) {
    const r = await etcdgw(['serve', '--listen-client-urls', 'http://127.0.0.1:1', ...flags])
    t.equal(r.code, 2, flags.join(' '))
    t.match(r.stderr, message)
  }
})
