/** `etcdgw backup now|run|list|verify|restore`: verified snapshots of an etcd cluster or a gateway kept in a directory. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { backupTime, findBackup, listBackups, writeSidecar } from '../backup/backup-files.js'
import { type BackupLog, BackupService } from '../backup/backup-service.js'
import { BackupMetrics } from '../backup/metrics.js'
import { durationOrNaN, parseSchedule, ScheduleLoop, type Schedule } from '../backup/schedule.js'
import { type EtcdSource, etcdSource, gatewaySource, type SnapshotSource } from '../backup/sources.js'
import type { RetentionPolicy } from '../backup/retention.js'
import { verifySnapshotFile } from '../backup/verify.js'
import { Errors } from '../errors.js'
import { exposition, metricsContentType, registry } from '../metrics.js'
import { restoreSnapshot } from '../snapshot/restore.js'
import { followRemoteTls } from '../tls/remote-client-tls.js'
import type { TlsLog } from '../tls/reloading-tls.js'
import { addTlsOptions, clientTls, endpointList, fail, type TlsFlags, writeOutOption } from './gateway-client.js'
import { hexId, humanBytes, table } from './output.js'
import { progressBar, reported } from './snapshot.js'

interface SourceFlags extends TlsFlags {
  endpoints?: string
  gateway?: string
  commandTimeout: string
}

interface RetentionFlags {
  verifyRestore?: boolean
  keep?: number
  keepFor?: number
  keepPolicy?: 'exponential'
}

const durationArg = (flag: string) => (v: string) => {
  const ms = durationOrNaN(v)
  if (!(ms > 0)) throw new InvalidArgumentError(`${flag}: not a duration such as 30s, 12h or 7d`)
  return ms
}

const countArg = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('--keep: a count of 1 or more')
  return Number(v)
}

const dirOption = () => new Option('--dir <dir>', 'the backup directory').makeOptionMandatory()

function addSourceOptions(cmd: Command): Command {
  return addTlsOptions(
    cmd
      .addOption(new Option('--endpoints <urls>', 'etcd members to back up, over gRPC (as etcdctl; default http://127.0.0.1:2379)').env('ETCDCTL_ENDPOINTS'))
      .addOption(new Option('--gateway <url>', 'back up through a gateway\'s /v3/maintenance/snapshot instead (etcdgw serve, or etcd\'s own)').conflicts('endpoints'))
      .addOption(new Option('--command-timeout <duration>', 'time limit of each request to etcd other than the snapshot stream').default('5s').env('ETCDCTL_COMMAND_TIMEOUT')),
  )
}

function addRetentionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--verify-restore', 'also restore each backup into a temporary embedded store and check its revision and keys'))
    .addOption(new Option('--keep <n>', 'keep the newest N verified backups').argParser(countArg))
    .addOption(new Option('--keep-for <duration>', 'keep backups younger than this (e.g. 7d)').argParser(durationArg('--keep-for')))
    .addOption(new Option('--keep-policy <policy>', 'exponential: all of the last hour, then one per hour for 24 h, per day for 7 days, per week for 4 weeks').choices(['exponential']))
}

const retentionOf = (f: RetentionFlags): RetentionPolicy => ({
  ...(f.keep !== undefined ? { keep: f.keep } : {}),
  ...(f.keepFor !== undefined ? { keepForMs: f.keepFor } : {}),
  ...(f.keepPolicy === 'exponential' ? { exponential: true } : {}),
})

/**
 * The source the flags name. For an etcd cluster whose TLS files are given, `follow` keeps them followed: a
 * renewed client certificate or CA is used by the next snapshots, without a restart.
 */
async function openSource(flags: SourceFlags, follow?: TlsLog): Promise<SnapshotSource> {
  if (flags.gateway !== undefined) return gatewaySource(flags.gateway.replace(/\/+$/, ''), clientTls(flags))
  const commandTimeoutMs = durationOrNaN(flags.commandTimeout)
  if (!(commandTimeoutMs > 0)) fail(`--command-timeout ${flags.commandTimeout}: not a duration`)
  const remote = { endpoints: endpointList(flags.endpoints ?? 'http://127.0.0.1:2379'), cacert: flags.cacert, cert: flags.cert, key: flags.key, commandTimeoutMs }
  let source: EtcdSource
  try {
    source = await etcdSource({ ...remote, requestTimeoutMs: commandTimeoutMs })
  } catch (err) {
    fail((err as Error).message)
  }
  const follower = follow && (await followRemoteTls(remote, () => source.reloadTls(), follow))
  return follower ? { ...source, close: () => follower.close().then(() => source.close()) } : source
}

/** One JSON line per event on stdout, as the gateway's own logs. */
const jsonLog: BackupLog = (level, fields, msg) => {
  process.stdout.write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }) + '\n')
}

const tlsLog: TlsLog = {
  info: (fields, msg) => jsonLog('info', fields as Record<string, unknown>, msg),
  warn: (fields, msg) => jsonLog('warn', fields as Record<string, unknown>, msg),
}

export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('verified snapshots of an etcd cluster (or a gateway), kept in a directory')

  addRetentionOptions(addSourceOptions(backup.command('now')))
    .description('takes one backup now: snapshot, write, verify, then retention')
    .addOption(dirOption())
    .action(async (flags: SourceFlags & RetentionFlags & { dir: string }) => {
      const source = await openSource(flags)
      const tty = process.stderr.isTTY === true
      const service = new BackupService({ source, dir: flags.dir, retention: retentionOf(flags), verifyRestore: flags.verifyRestore === true, log: () => undefined })
      if (!tty) process.stdout.write(`backing up ${source.description} into ${flags.dir}\n`)
      const outcome = await service.backup(tty ? progressBar : undefined)
      if (tty) process.stderr.write('\n')
      await source.close()
      if (!outcome.ok) fail(outcome.error.message)
      const r = outcome.record
      process.stdout.write(`${r.name}: revision ${r.revision}, ${r.totalKey} keys, ${humanBytes(r.fileBytes)}, verified${r.restoreVerified ? ' and restored' : ''} (hash ${r.hash.toString(16)})\n`)
      for (const name of outcome.deleted) process.stdout.write(`deleted ${name} (retention)\n`)
      if (outcome.retentionError) fail(`retention: ${outcome.retentionError.message}`)
    })

  addRetentionOptions(addSourceOptions(backup.command('run')))
    .description('takes backups on a schedule until stopped; one JSON log line per backup, Prometheus metrics on --listen-metrics-urls')
    .addOption(dirOption())
    .addOption(new Option('--schedule <cron>', 'cron expression (5 fields, or 6 with seconds; UTC) or @every <duration>').makeOptionMandatory())
    .addOption(new Option('--listen-metrics-urls <urls>', 'serve /metrics on these http URLs'))
    .action(async (flags: SourceFlags & RetentionFlags & { dir: string; schedule: string; listenMetricsUrls?: string }) => {
      let schedule: Schedule
      try {
        schedule = parseSchedule(flags.schedule)
      } catch (err) {
        fail((err as Error).message)
      }
      const source = await openSource(flags, tlsLog)
      const service = new BackupService({ source, dir: flags.dir, retention: retentionOf(flags), verifyRestore: flags.verifyRestore === true, log: jsonLog, metrics: new BackupMetrics(registry) })
      service.metrics.scheduleInterval(schedule.intervalSeconds(new Date()))
      service.observeDirectory()
      const servers = await Promise.all(endpointList(flags.listenMetricsUrls ?? '').map(serveMetrics))
      const loop = new ScheduleLoop(schedule, async () => void (await service.backup()))
      loop.start()
      jsonLog('info', { dir: flags.dir, source: source.description, schedule: flags.schedule, next: schedule.next(new Date()).toISOString(), metrics: servers.map(urlOf) }, 'backups scheduled')
      const stop = async () => {
        await loop.stop()
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
        await source.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop())
      process.once('SIGTERM', () => void stop())
    })

  backup
    .command('list')
    .description('the backups in a directory: name, time, revision, keys, size, verified, where')
    .addOption(dirOption())
    .addOption(writeOutOption(['table', 'json']).default('table'))
    .action((flags: { dir: string; writeOut: string }) =>
      reported(() => {
        const entries = listBackups(flags.dir)
        if (flags.writeOut === 'json') {
          const rows = entries.map((e) => ({ name: e.name, time: e.time.toISOString(), path: e.path, fileBytes: e.fileBytes, verified: e.record !== undefined, ...(e.record ? { revision: e.record.revision, totalKey: e.record.totalKey, hash: e.record.hash, sha256: e.record.sha256 } : {}) }))
          process.stdout.write(JSON.stringify(rows) + '\n')
          return
        }
        const rows = entries.map((e) => [e.name, e.time.toISOString(), String(e.record?.revision ?? ''), String(e.record?.totalKey ?? ''), humanBytes(e.fileBytes), e.record ? 'yes' : 'no', flags.dir])
        process.stdout.write(table(['NAME', 'TIME', 'REVISION', 'KEYS', 'SIZE', 'VERIFIED', 'WHERE'], rows))
      }),
    )

  backup
    .command('verify <name>')
    .description('verifies a backup again (NAME, or latest): trailer, every page, every key; compares it with its record')
    .addOption(dirOption())
    .action((name: string, flags: { dir: string }) =>
      reported(() => {
        const entry = findBackup(flags.dir, name)
        const found = verifySnapshotFile(entry.path)
        const r = entry.record
        if (r && (r.sha256 !== found.sha256 || r.revision !== found.revision || r.totalKey !== found.totalKey || r.hash !== found.hash)) {
          throw Errors.snapshotInvalid(`${entry.path} no longer matches its record (revision ${r.revision}, hash ${r.hash.toString(16)})`)
        }
        if (!r) writeSidecar(entry.path, { name: entry.name, time: backupTime(entry.name)!.toISOString(), ...found, verifiedAt: new Date().toISOString(), source: '' })
        process.stdout.write(`${entry.name}: verified: revision ${found.revision}, ${found.totalKey} keys, ${humanBytes(found.fileBytes)}, hash ${found.hash.toString(16)}\n`)
      }),
    )

  backup
    .command('restore <name>')
    .description('verifies a backup (NAME, or latest) and restores it into a new data dir for `etcdgw serve`, or prints the etcdctl restore commands for every member of a real cluster (with --initial-advertise-peer-urls)')
    .addOption(dirOption())
    .requiredOption('--data-dir <dir>', 'the data dir to create; it must not exist')
    .option('--name <name>', 'this member\'s name in --initial-cluster', 'default')
    .option('--initial-cluster <name=url,...>', 'the cluster the member and cluster IDs derive from, as etcd\'s', 'default=http://localhost:2380')
    .option('--initial-cluster-token <token>', 'the cluster token the IDs derive from', 'etcd-cluster')
    .option('--initial-advertise-peer-urls <urls>', 'this member\'s peer URLs: print the etcdctl snapshot restore command of each member instead of restoring')
    .action((name: string, flags: { dir: string; dataDir: string; name: string; initialCluster: string; initialClusterToken: string; initialAdvertisePeerUrls?: string }) =>
      reported(async () => {
        const entry = findBackup(flags.dir, name)
        verifySnapshotFile(entry.path)
        if (flags.initialAdvertisePeerUrls !== undefined) {
          process.stdout.write(etcdctlRestoreCommands(entry.path, flags as Required<typeof flags>))
          return
        }
        const ids = await restoreSnapshot(entry.path, { ...flags, skipHashCheck: false })
        process.stdout.write(`restored ${entry.name} into ${flags.dataDir} (member ${hexId(ids.memberId)}, cluster ${hexId(ids.clusterId)})\n`)
      }),
    )
}

/** etcd's --initial-cluster: each member's name with its peer URLs, in the order given. */
function clusterMembers(initialCluster: string): Map<string, string[]> {
  const members = new Map<string, string[]>()
  for (const pair of initialCluster.split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new InvalidArgumentError(`--initial-cluster: ${JSON.stringify(pair)} is not name=url`)
    const member = pair.slice(0, at).trim()
    members.set(member, [...(members.get(member) ?? []), pair.slice(at + 1).trim()])
  }
  return members
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`)

/**
 * etcd restores a cluster by restoring the same snapshot on every member, each with its own name and peer
 * URLs and the same --initial-cluster and token; these are those commands, one per member.
 */
function etcdctlRestoreCommands(file: string, f: { name: string; initialCluster: string; initialClusterToken: string; initialAdvertisePeerUrls: string; dataDir: string }): string {
  const members = clusterMembers(f.initialCluster)
  const own = members.get(f.name)
  if (!own) throw new InvalidArgumentError(`--initial-cluster has no member named ${f.name} (--name)`)
  const given = f.initialAdvertisePeerUrls.split(',').map((u) => u.trim())
  if (given.some((u) => !own.includes(u))) throw new InvalidArgumentError(`--initial-advertise-peer-urls ${f.initialAdvertisePeerUrls} are not ${f.name}'s URLs in --initial-cluster (${own.join(',')})`)
  let text = `# on each member, with etcd stopped and ${f.dataDir} absent, copy ${file} there and run its command:\n`
  for (const [member, urls] of members) {
    const args = ['snapshot', 'restore', file, '--name', member, '--initial-cluster', f.initialCluster, '--initial-cluster-token', f.initialClusterToken, '--initial-advertise-peer-urls', urls.join(','), '--data-dir', f.dataDir]
    text += `ETCDCTL_API=3 etcdctl ${args.map(shellQuote).join(' ')}\n`
  }
  return text
}

async function serveMetrics(url: string): Promise<Server> {
  const u = new URL(url)
  if (u.protocol !== 'http:') fail(`--listen-metrics-urls ${url}: only http URLs`)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    void exposition().then((text) => res.writeHead(200, { 'content-type': metricsContentType }).end(text))
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(u.port || 80), u.hostname.replace(/^\[|\]$/g, ''), resolve))
  return server
}

function urlOf(server: Server): string {
  const a = server.address() as AddressInfo
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`
}
