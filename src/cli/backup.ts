/** `etcdgw backup now|run|list|verify|restore`: verified snapshots of an etcd cluster or a gateway kept in a directory, an S3 bucket or both. */
import { mkdirSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { writeSidecar } from '../backup/backup-files.js'
import { type BackupLog, BackupService } from '../backup/backup-service.js'
import { type BackupStore, dirStore } from '../backup/backup-store.js'
import { BackupMetrics } from '../backup/metrics.js'
import { durationOrNaN, parseSchedule, ScheduleLoop, type Schedule } from '../backup/schedule.js'
import { type EtcdSource, etcdSource, gatewaySource, type SnapshotSource } from '../backup/sources.js'
import type { RetentionPolicy } from '../backup/retention.js'
import { openS3Store, s3FlagOptions, s3FlagValues, s3OptionsOf } from '../backup/s3-flags.js'
import type { S3Store } from '../backup/s3-store.js'
import { verifySnapshotFile } from '../backup/verify.js'
import { findLocated, listed, locate, type Located, verifyCopies } from '../backup/catalog.js'
import { exposition, metricsContentType, registry } from '../metrics.js'
import { restoreSnapshot } from '../snapshot/restore.js'
import { followRemoteTls } from '../tls/remote-client-tls.js'
import { ReloadingTls, type TlsLog } from '../tls/reloading-tls.js'
import { addAccessOptions, gatewayAccess, endpointList, fail, type AccessFlags, writeOutOption } from './gateway-client.js'
import { hexId, humanBytes, table } from './output.js'
import { progressBar, reported } from './snapshot.js'

interface SourceFlags extends AccessFlags {
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

interface StoreFlags {
  dir?: string
}

/** Where backups are kept: a directory, an S3 bucket (credentials from the AWS SDK's chain: AWS_* variables, AWS_PROFILE, …), or both. */
function addStoreOptions(cmd: Command): Command {
  cmd.addOption(new Option('--dir <dir>', 'the backup directory'))
  for (const option of s3FlagOptions('')) cmd.addOption(option)
  return cmd
}

interface Stores {
  dir?: string
  s3?: S3Store
  all: BackupStore[]
}

async function storesOf(f: StoreFlags): Promise<Stores> {
  const values = s3FlagValues(f, '')
  if (f.dir === undefined && values.bucket === undefined) fail('give --dir, --s3-bucket or both')
  let s3: S3Store | undefined
  try {
    const options = s3OptionsOf(values, '')
    if (options) s3 = await openS3Store(options, '')
  } catch (err) {
    fail((err as Error).message)
  }
  return { ...(f.dir !== undefined ? { dir: f.dir } : {}), ...(s3 ? { s3 } : {}), all: [...(f.dir !== undefined ? [dirStore(f.dir)] : []), ...(s3 ? [s3] : [])] }
}

function addSourceOptions(cmd: Command): Command {
  return addAccessOptions(
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
  if (flags.gateway !== undefined) return gatewaySource(flags.gateway.replace(/\/+$/, ''), gatewayAccess(flags))
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
  const backup = program.command('backup').description('verified snapshots of an etcd cluster (or a gateway), kept in a directory, an S3 bucket or both')

  addRetentionOptions(addStoreOptions(addSourceOptions(backup.command('now'))))
    .description('takes one backup now: snapshot, write, verify, upload and read back, then retention')
    .action(async (flags: SourceFlags & RetentionFlags & StoreFlags) => {
      const stores = await storesOf(flags)
      const source = await openSource(flags)
      const tty = process.stderr.isTTY === true
      const service = new BackupService({ source, ...stores, retention: retentionOf(flags), verifyRestore: flags.verifyRestore === true, log: () => undefined })
      if (!tty) process.stdout.write(`backing up ${source.description} into ${stores.all.map((s) => s.description).join(' and ')}\n`)
      const outcome = await service.backup(tty ? progressBar : undefined)
      if (tty) process.stderr.write('\n')
      await source.close()
      stores.s3?.close()
      if (outcome.ok) {
        const r = outcome.record
        process.stdout.write(`${r.name}: revision ${r.revision}, ${r.totalKey} keys, ${humanBytes(r.fileBytes)}, verified${r.restoreVerified ? ' and restored' : ''} (hash ${r.hash.toString(16)})\n`)
      }
      // a failed destination's error is the outcome's own when none kept it
      const problems = !outcome.ok && outcome.reason !== 'destination' ? [outcome.error.message] : []
      for (const d of outcome.destinations) {
        if (!d.ok) {
          problems.push(d.error.message)
          continue
        }
        process.stdout.write(`kept in ${d.destination}\n`)
        for (const name of d.deleted) process.stdout.write(`deleted ${name} from ${d.destination} (retention)\n`)
        if (d.retentionError) problems.push(`retention in ${d.destination}: ${d.retentionError.message}`)
      }
      if (problems.length) fail(problems.join('\n'))
    })

  addRetentionOptions(addStoreOptions(addSourceOptions(backup.command('run'))))
    .description('takes backups on a schedule until stopped; one JSON log line per backup, Prometheus metrics on --listen-metrics-urls')
    .addOption(new Option('--schedule <cron>', 'cron expression (5 fields, or 6 with seconds; UTC) or @every <duration>').makeOptionMandatory())
    .addOption(new Option('--listen-metrics-urls <urls>', 'serve /metrics on these http or https URLs'))
    .addOption(new Option('--cert-file <file>', 'certificate of the https metrics URLs (reloaded when it changes)'))
    .addOption(new Option('--key-file <file>', 'its key'))
    .addOption(new Option('--trusted-ca-file <file>', 'with it, the https metrics URLs take only clients whose certificate chains to these CAs'))
    .action(async (flags: SourceFlags & RetentionFlags & StoreFlags & MetricsFlags & { schedule: string }) => {
      let schedule: Schedule
      try {
        schedule = parseSchedule(flags.schedule)
      } catch (err) {
        fail((err as Error).message)
      }
      const stores = await storesOf(flags)
      const metricsUrls = endpointList(flags.listenMetricsUrls ?? '')
      const metricsTls = await metricsTlsOf(flags, metricsUrls)
      const source = await openSource(flags, tlsLog)
      const service = new BackupService({ source, ...stores, retention: retentionOf(flags), verifyRestore: flags.verifyRestore === true, log: jsonLog, metrics: new BackupMetrics(registry) })
      service.metrics.scheduleInterval(schedule.intervalSeconds(new Date()))
      await service.observe()
      const servers = await Promise.all(metricsUrls.map((url) => serveMetrics(url, metricsTls)))
      const loop = new ScheduleLoop(schedule, async () => void (await service.backup()))
      loop.start()
      jsonLog('info', { ...(stores.dir !== undefined ? { dir: stores.dir } : {}), ...(stores.s3 ? { s3: stores.s3.description } : {}), source: source.description, schedule: flags.schedule, next: schedule.next(new Date()).toISOString(), metrics: servers.map(urlOf) }, 'backups scheduled')
      const stop = async () => {
        await loop.stop()
        await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
        await metricsTls?.close()
        await source.close()
        stores.s3?.close()
        process.exit(0)
      }
      process.once('SIGINT', () => void stop())
      process.once('SIGTERM', () => void stop())
    })

  addStoreOptions(backup.command('list'))
    .description('the backups in a directory and a bucket: name, time, revision, keys, size, verified, where (dir, s3 or both)')
    .addOption(writeOutOption(['table', 'json']).default('table'))
    .action((flags: StoreFlags & { writeOut: string }) =>
      reported(async () => {
        const stores = await storesOf(flags)
        const all = await locate(stores.all)
        stores.s3?.close()
        if (flags.writeOut === 'json') {
          process.stdout.write(JSON.stringify(all.map(listed)) + '\n')
          return
        }
        const rows = all.map(listed).map((b) => [b.name, b.time, String(b.revision ?? ''), String(b.totalKey ?? ''), humanBytes(b.fileBytes), b.verified ? 'yes' : 'no', b.where])
        process.stdout.write(table(['NAME', 'TIME', 'REVISION', 'KEYS', 'SIZE', 'VERIFIED', 'WHERE'], rows))
      }),
    )

  addStoreOptions(backup.command('verify <name>'))
    .description('verifies a backup again (NAME, or latest), each copy (one in the bucket is downloaded): trailer, every page, every key; compares it with its record')
    .action((name: string, flags: StoreFlags) =>
      reported(async () => {
        const stores = await storesOf(flags)
        try {
          for (const c of await verifyCopies(await findLocated(stores.all, name))) {
            process.stdout.write(`${c.name}: verified in ${c.store}: revision ${c.revision}, ${c.totalKey} keys, ${humanBytes(c.fileBytes)}, hash ${c.hash.toString(16)}\n`)
          }
        } finally {
          stores.s3?.close()
        }
      }),
    )

  addStoreOptions(backup.command('restore <name>'))
    .description('verifies a backup (NAME, or latest; from the directory, else downloaded from the bucket) and restores it into a new data dir for `etcdgw serve`, or prints the etcdctl restore commands for every member of a real cluster (with --initial-advertise-peer-urls)')
    .requiredOption('--data-dir <dir>', 'the data dir to create; it must not exist')
    .option('--name <name>', 'this member\'s name in --initial-cluster', 'default')
    .option('--initial-cluster <name=url,...>', 'the cluster the member and cluster IDs derive from, as etcd\'s', 'default=http://localhost:2380')
    .option('--initial-cluster-token <token>', 'the cluster token the IDs derive from', 'etcd-cluster')
    .option('--initial-advertise-peer-urls <urls>', 'this member\'s peer URLs: print the etcdctl snapshot restore command of each member instead of restoring (a backup only in the bucket is downloaded into --dir)')
    .action((name: string, flags: StoreFlags & { dataDir: string; name: string; initialCluster: string; initialClusterToken: string; initialAdvertisePeerUrls?: string }) =>
      reported(async () => {
        const stores = await storesOf(flags)
        try {
          const found = await findLocated(stores.all, name)
          const copy = await localBackup(stores, found, flags.initialAdvertisePeerUrls !== undefined)
          try {
            verifySnapshotFile(copy.path)
            if (flags.initialAdvertisePeerUrls !== undefined) {
              process.stdout.write(etcdctlRestoreCommands(copy.path, flags as Required<typeof flags>))
              return
            }
            const ids = await restoreSnapshot(copy.path, { ...flags, skipHashCheck: false })
            process.stdout.write(`restored ${found.name} into ${flags.dataDir} (member ${hexId(ids.memberId)}, cluster ${hexId(ids.clusterId)})\n`)
          } finally {
            copy.release()
          }
        } finally {
          stores.s3?.close()
        }
      }),
    )
}

/**
 * The backup as a local file: the directory's copy; else the bucket's, downloaded into the directory when one
 * is given (and recorded there once verified), or into a temporary one removed after the restore. etcdctl's
 * commands name a file that has to stay, so they need the directory.
 */
async function localBackup(stores: Stores, found: Located, keep: boolean): Promise<{ path: string; release: () => void }> {
  const local = found.copies.find((c) => c.store.kind === 'dir')
  if (local) return { path: local.entry.path, release: () => undefined }
  const remote = found.copies[0]!
  if (stores.dir === undefined) {
    if (keep) throw new InvalidArgumentError(`${found.name} is only in ${remote.store.description}: give --dir to download it into, for etcdctl`)
    return remote.store.localCopy(remote.entry)
  }
  mkdirSync(stores.dir, { recursive: true, mode: 0o700 })
  const path = await stores.s3!.download(remote.entry, stores.dir)
  if (remote.entry.record) writeSidecar(path, { ...remote.entry.record, ...verifySnapshotFile(path), verifiedAt: new Date().toISOString() })
  return { path, release: () => undefined }
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

interface MetricsFlags {
  listenMetricsUrls?: string
  certFile?: string
  keyFile?: string
  trustedCaFile?: string
}

/** As etcd's --listen-metrics-urls: an https URL is served with --cert-file and --key-file (and --trusted-ca-file, if given). */
async function metricsTlsOf(flags: MetricsFlags, urls: string[]): Promise<ReloadingTls | undefined> {
  for (const url of urls) {
    const scheme = URL.canParse(url) ? new URL(url).protocol : ''
    if (scheme !== 'http:' && scheme !== 'https:') fail(`--listen-metrics-urls ${url}: only http and https URLs`)
  }
  if (!urls.some((u) => u.startsWith('https:'))) {
    if (flags.certFile !== undefined || flags.keyFile !== undefined || flags.trustedCaFile !== undefined) fail('--cert-file, --key-file and --trusted-ca-file are for https --listen-metrics-urls')
    return undefined
  }
  if (flags.certFile === undefined || flags.keyFile === undefined) fail('an https --listen-metrics-urls needs --cert-file and --key-file')
  try {
    const tls = await ReloadingTls.open({ certFile: flags.certFile, keyFile: flags.keyFile, ...(flags.trustedCaFile !== undefined ? { trustedCaFile: flags.trustedCaFile } : {}) })
    tls.watch(tlsLog)
    return tls
  } catch (err) {
    fail((err as Error).message)
  }
}

async function serveMetrics(url: string, tls: ReloadingTls | undefined): Promise<Server> {
  const u = new URL(url)
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end()
      return
    }
    void exposition().then((text) => res.writeHead(200, { 'content-type': metricsContentType }).end(text))
  }
  let server: Server
  if (u.protocol === 'https:') {
    const https = createHttpsServer(tls!.serverOptions(), handler)
    tls!.follow(https)
    server = https
  } else server = createServer(handler)
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(u.port || 80), u.hostname.replace(/^\[|\]$/g, ''), resolve))
  return server
}

function urlOf(server: Server): string {
  const a = server.address() as AddressInfo
  return `${server instanceof HttpsServer ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/metrics`
}
