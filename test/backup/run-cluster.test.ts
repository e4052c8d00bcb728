/**
 * `etcdgw backup run` against a real 3-member etcd cluster with TLS and client mTLS, every certificate made
 * by `etcdgw certs`, given as etcdctl's ETCDCTL_* variables: backups on their second, retention, one log
 * line each, metrics on --listen-metrics-urls, backups going on while a member is down, a client certificate
 * from the wrong CA reported as a failure and a renewed one picked up without a restart.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import t from 'tap'
import { backupTime, listBackups } from '../../src/backup/backup-files.js'
import { BackupService } from '../../src/backup/backup-service.js'
import { etcdSource } from '../../src/backup/sources.js'
import { MAIN_JS } from '../helpers/gateway.js'
import { send } from '../helpers/http.js'
import { freePort, guardChild } from '../helpers/process.js'
import { certsCli } from '../pki/cli-runner.js'
import { clientFiles, etcdAvailable, EtcdCluster, type RunningMember } from '../pki/etcd-cluster.js'

const hasEtcd = await etcdAvailable()
if (!hasEtcd && process.env.CI === 'true') t.fail('etcd is not installed (apt-get install etcd-server etcd-client)')

interface LogLine {
  level: string
  time: string
  msg: string
  name?: string
  result?: string
  revision?: number
  deleted?: string[]
  error?: string
  startedAt?: string
  durationMs?: number
}

/** The run's log lines: each awaited in turn (next), every one so far (all), and the end of its output. */
function logLines(child: ChildProcess): { next: () => Promise<LogLine>; all: LogLine[]; ended: Promise<void> } {
  const all: LogLine[] = []
  const queue: LogLine[] = []
  const waiting: Array<(l: LogLine) => void> = []
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => {
    const parsed = JSON.parse(line) as LogLine
    all.push(parsed)
    const next = waiting.shift()
    if (next) next(parsed)
    else queue.push(parsed)
  })
  return {
    next: () => {
      const queued = queue.shift()
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiting.push(resolve))
    },
    all,
    ended: new Promise((resolve) => lines.once('close', resolve)),
  }
}

t.test('backup run against an mTLS etcd cluster', { skip: hasEtcd ? false : 'etcd is not installed' }, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'etcdgw-backup-cluster-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dirs = ['n1', 'n2', 'n3'].map((n) => join(root, n))
  for (const [i, dir] of dirs.entries()) {
    const r = i === 0
      ? await certsCli('init', '--dir', dir, '--node-name', 'n1', '--advertise-address', '127.0.0.1')
      : await certsCli('issue', 'member', '--dir', dirs[0]!, '--out-dir', dir, '--node-name', `n${i + 1}`, '--advertise-address', '127.0.0.1')
    t.equal(r.code, 0, r.stderr)
  }
  const cluster = await EtcdCluster.start(dirs.map((pkiDir, i) => ({ name: `n${i + 1}`, pkiDir })))
  t.teardown(() => cluster.stop())
  const tls = clientFiles(dirs[0]!, 'apiserver-etcd-client')
  t.equal((await cluster.etcdctl(['put', 'before', 'backups'], tls)).code, 0)
  // the client certificate the run uses lives where a renewal will replace it
  const client = { ca: tls.ca, cert: join(root, 'client', 'etcd-client.crt'), key: join(root, 'client', 'etcd-client.key') }
  await mkdir(join(root, 'client'))
  await copyFile(tls.cert!, client.cert)
  await copyFile(tls.key!, client.key)

  const dir = join(root, 'backups')
  const metricsPort = await freePort()
  const run = spawn(
    process.execPath,
    [MAIN_JS, 'backup', 'run', '--schedule', '*/2 * * * * *', '--dir', dir, '--keep', '2', '--listen-metrics-urls', `http://127.0.0.1:${metricsPort}`],
    { env: { ...process.env, ETCDCTL_ENDPOINTS: cluster.endpoints, ETCDCTL_CACERT: client.ca, ETCDCTL_CERT: client.cert, ETCDCTL_KEY: client.key }, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  guardChild(run)
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)))
  t.teardown(() => run.kill('SIGKILL'))
  const log = logLines(run)
  const next = log.next
  const until = async (wanted: (l: LogLine) => boolean) => {
    for (;;) {
      const line = await next()
      if (wanted(line)) return line
    }
  }
  /**
   * A backup that started after `event` was logged (one under way then may have used the files before; one
   * started in the same millisecond may have too).
   */
  const startedAfter = (event: LogLine) => (l: LogLine) => l.msg.startsWith('backup') && Date.parse(l.startedAt!) > Date.parse(event.time)
  /** As a renewal writes them: the key, then the certificate. */
  const replaceClient = async (from: { cert?: string; key?: string }) => {
    await copyFile(from.key!, client.key)
    await copyFile(from.cert!, client.cert)
  }

  t.match(await next(), { msg: 'backups scheduled', metrics: [`http://127.0.0.1:${metricsPort}/metrics`] })
  const first = await next()
  const second = await next()
  for (const line of [first, second]) {
    t.match(line, { level: 'info', msg: 'backup verified', result: 'ok' }, JSON.stringify(line))
    t.equal(Number(line.name!.slice(-5, -3)) % 2, 0, `${line.name} taken on an even second`)
  }
  // the slots the names give, not the log lines' times: a slow first backup can end less than a slot before the next
  const slotOf = (line: LogLine) => backupTime(line.name!)!.getTime()
  t.equal(slotOf(second) - slotOf(first) >= 2_000, true, 'one slot apart')

  // the first member stops: the next backups come from the others
  cluster.members[0]!.process!.kill('SIGKILL')
  // a write right after a member dies can time out while the others elect a leader: etcdctl is asked again
  const putDeadline = Date.now() + 20_000
  let put = await cluster.etcdctl(['put', 'while', 'down'], tls, `https://127.0.0.1:${cluster.members[1]!.clientPort}`)
  while (put.code !== 0 && Date.now() < putDeadline) put = await cluster.etcdctl(['put', 'while', 'down'], tls, `https://127.0.0.1:${cluster.members[1]!.clientPort}`)
  t.equal(put.code, 0, 'the two members left accept a write')
  const putAt = Date.now()
  const third = await next()
  const fourth = await next()
  t.match(third, { result: 'ok', deleted: [first.name] }, JSON.stringify(third))
  t.match(fourth, { result: 'ok', deleted: [second.name] }, JSON.stringify(fourth))
  // the first backup started after the write was acknowledged has it
  let after = fourth
  while (Date.parse(after.startedAt!) <= putAt) after = await next()
  t.ok(after.revision! > first.revision!, 'the write made while the member was down is in the backup')

  const metrics = await send(`http://127.0.0.1:${metricsPort}`, '/metrics', '', { method: 'GET' })
  t.equal(metrics.status, 200)
  t.match(metrics.body, /^etcdgw_backup_last_attempt_success 1$/m)
  t.match(metrics.body, /^etcdgw_backup_schedule_interval_seconds 2$/m)
  // every backup from `after` on holds the cluster's last write
  t.match(metrics.body, new RegExp(`^etcdgw_backup_last_revision ${after.revision}$`, 'm'))
  t.match(metrics.body, /^etcdgw_backup_failures_total\{reason="source"\} 0$/m)
  t.match(metrics.body, /^etcdgw_backup_kept\{destination=".*backups"\} 2$/m)
  t.match(metrics.body, /^process_cpu_seconds_total /m, 'and the process metrics')

  // a certificate from another CA replaces the client's: the next backups fail, and say so
  const otherCa = join(root, 'other-ca')
  t.equal((await certsCli('init', '--dir', otherCa, '--node-name', 'x', '--advertise-address', '127.0.0.1')).code, 0)
  await replaceClient(clientFiles(otherCa, 'apiserver-etcd-client'))
  const reloaded = await until((l) => l.msg.startsWith('TLS files for etcd reloaded'))
  const refused = await until(startedAfter(reloaded))
  t.match(refused, { level: 'error', result: 'failed', reason: 'source', msg: 'backup failed; nothing deleted' }, JSON.stringify(refused))
  t.match((await send(`http://127.0.0.1:${metricsPort}`, '/metrics', '', { method: 'GET' })).body, /^etcdgw_backup_last_attempt_success 0$/m)
  t.equal(listBackups(dir).length, 2, 'nothing deleted while failing')

  // a renewed certificate from the cluster's CA: picked up without a restart
  const renewed = await certsCli('issue', 'client', '--dir', dirs[0]!, '--user', 'backup', '--out-dir', join(root, 'renewed'))
  t.equal(renewed.code, 0, renewed.stderr)
  await replaceClient(clientFiles(dirs[0]!, '../renewed/backup'))
  const reloadedAgain = await until((l) => l.msg.startsWith('TLS files for etcd reloaded'))
  const recovered = await until(startedAfter(reloadedAgain))
  t.match(recovered, { result: 'ok', msg: 'backup verified' }, JSON.stringify(recovered))

  run.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM: exits 0 once the running backup is done')
  // kept: the newest two verified, once no backup runs (one under way has its file in before retention runs)
  await log.ended
  const verified = log.all.filter((l) => l.msg === 'backup verified')
  t.same(listBackups(dir).map((e) => [e.name, e.record !== undefined]), verified.slice(-2).map((l) => [l.name, true]), 'two kept, the newest, both verified')

  // the member a backup is about to use dies: the snapshot comes from another (etcd serves it without a leader)
  const [, m2, m3] = cluster.members as [unknown, RunningMember, RunningMember]
  const source = await etcdSource({ endpoints: [m2, m3].map((m) => `https://127.0.0.1:${m.clientPort}`), cacert: tls.ca, cert: tls.cert, key: tls.key, requestTimeoutMs: 5_000 })
  t.teardown(() => source.close())
  const lines: string[] = []
  const service = new BackupService({ source, dir: join(root, 'failover'), retention: {}, log: (_level, fields) => void lines.push(String(fields.result)) })
  const gone = new Promise((resolve) => m2.process!.once('exit', resolve))
  m2.process!.kill('SIGKILL')
  await gone
  const outcome = await service.backup()
  t.ok(outcome.ok, outcome.ok ? 'the backup came from the member left' : outcome.error.message)
  t.same(lines, ['ok'])
})
