/** `etcdgw serve`: the etcd v3 JSON gateway on the embedded store or in front of etcd, over HTTP or HTTPS. */
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Command } from 'commander'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import { BackupService } from '../backup/backup-service.js'
import { dirStore } from '../backup/backup-store.js'
import { openS3Store } from '../backup/s3-flags.js'
import type { S3Store } from '../backup/s3-store.js'
import { BackupMetrics } from '../backup/metrics.js'
import { ScheduleLoop } from '../backup/schedule.js'
import { backendSource } from '../backup/sources.js'
import type { Backend } from '../backend/backend.js'
import { dataDirModeWarning } from '../backend/embedded/data-dir.js'
import { openEmbeddedBackend } from '../backend/embedded/index.js'
import { openRemoteBackend } from '../backend/remote/index.js'
import { registry } from '../metrics.js'
import { ConfigError, resolveServeConfig, type RemoteConfig, type ServeConfig, type ServeFlags, serveOptions } from '../config.js'
import { Errors, EtcdError } from '../errors.js'
import { followRemoteTls, type RemoteTlsFollower } from '../tls/remote-client-tls.js'
import { trackPkiDirectory } from '../tls/pki-dir-certs.js'
import { ReloadingTls } from '../tls/reloading-tls.js'
import { TlsFileError } from '../tls/tls-files.js'

/** Exit status for unusable flags (as etcd and most CLIs use for usage errors). */
const usageExitCode = 2

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('serve the etcd v3 API (JSON gateway) on the embedded store, or in front of etcd with --endpoints')
    .exitOverride((err) => {
      // commander has already printed its message (unknown flag, missing value, bad choice).
      process.exit(err.exitCode === 0 ? 0 : usageExitCode)
    })
  for (const option of serveOptions()) serve.addOption(option)
  serve.action(async (flags: ServeFlags) => {
    let config: ServeConfig
    try {
      config = resolveServeConfig(flags)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      process.stderr.write(`etcdgw serve: ${err.message}\n`)
      process.exit(usageExitCode)
    }
    let tls: ReloadingTls | undefined
    try {
      tls = config.tls && (await ReloadingTls.open(config.tls))
    } catch (err) {
      if (!(err instanceof TlsFileError)) throw err
      process.stderr.write(`etcdgw serve: ${err.message}\n`)
      process.exit(usageExitCode)
    }
    await serveUntilSignalled(config, tls)
  })
}

async function serveUntilSignalled(config: ServeConfig, tls: ReloadingTls | undefined): Promise<void> {
  let backupS3: S3Store | undefined
  try {
    backupS3 = config.backup?.s3 && (await openS3Store(config.backup.s3, 'backup-'))
  } catch (err) {
    process.stderr.write(`etcdgw serve: ${(err as Error).message}\n`)
    process.exit(usageExitCode)
  }
  const remote = config.remote && (await openRemote(config.remote))
  const backend = remote || (await openEmbedded(config))
  const backupStores = config.backup && [...(config.backup.dir !== undefined ? [dirStore(config.backup.dir)] : []), ...(backupS3 ? [backupS3] : [])]
  const apps: FastifyInstance[] = []
  let remoteTls: RemoteTlsFollower | undefined
  let backups: ScheduleLoop | undefined
  let stopping = false
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`etcdgw: ${signal} again, exiting without waiting\n`)
      process.exit(1)
    }
    stopping = true
    process.stdout.write(`etcdgw: ${signal}: finishing in-flight requests and closing the store\n`)
    await backups?.stop()
    await shutdown(apps, backend, tls, remoteTls)
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  const logger = { level: config.logLevel }
  try {
    for (const url of config.listenClientUrls) {
      const secure = url.protocol === 'https:'
      const app = buildApp({
        backend,
        maxRequestBytes: config.maxRequestBytes,
        watchSendBufferBytes: config.watchSendBufferBytes,
        streamSendBudgetBytes: config.streamSendBudgetBytes,
        apiDocs: config.apiDocs,
        ui: config.ui,
        clientCertAuth: secure && config.tls!.clientCertAuth === true,
        cors: config.cors,
        ...(backupStores ? { backups: backupStores } : {}),
        logger,
        ...(secure ? { https: tls!.serverOptions() } : {}),
      })
      if (secure) tls!.follow(app.server as unknown as HttpsServer)
      apps.push(app)
      if (!secure && config.tlsFlagsGiven.length > 0) {
        app.log.warn({ clientUrl: url.origin, ignored: config.tlsFlagsGiven }, 'scheme is HTTP; ignoring the TLS flags for this URL')
      }
      if (config.insecureNonLoopbackUrls.includes(url)) {
        app.log.warn({ clientUrl: url.origin }, 'serving plain HTTP on a non-loopback address (--insecure-listen-non-loopback): anyone who can reach it can read and write every key')
      }
      await app.listen({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (secure ? 443 : 80)) })
    }
    tls?.watch(apps[0]!.log)
    const looseDataDir = config.remote ? undefined : dataDirModeWarning(config.dataDir)
    if (looseDataDir) apps[0]!.log.warn({ dataDir: config.dataDir }, looseDataDir)
    if (config.remote && remote) remoteTls = await followRemoteTls(config.remote, () => remote.reloadTls(), apps[0]!.log)
    if (config.pkiDir) trackPkiDirectory(config.pkiDir, apps[0]!.log)
    if (config.backup) backups = scheduleBackups(config, backend, backupS3, apps[0]!.log)
  } catch (err) {
    await shutdown(apps, backend, tls, remoteTls)
    throw err
  }

  const listening = apps.map((app, i) => urlOf(config.listenClientUrls[i]!.protocol, app.server.address() as AddressInfo))
  const curlTls = listening[0]!.startsWith('https:') ? curlTlsFlags(config) : ''
  const store = config.remote ? `etcd at ${config.remote.endpoints.join(',')}` : `data dir ${config.dataDir}`
  for (const url of listening) process.stdout.write(`etcdgw: serving the etcd v3 API on ${url} (${store})\n`)
  process.stdout.write(
    `etcdgw: try: curl -s${curlTls} -X POST ${listening[0]}/v3/kv/put -d '{"key":"Zm9v","value":"YmFy"}'` +
      ` && curl -s${curlTls} -X POST ${listening[0]}/v3/kv/range -d '{"key":"Zm9v"}'\n`,
  )
}

/** Backups of the store this server serves, with the code `etcdgw backup run` uses; metrics on /metrics, one log line each. */
function scheduleBackups(config: ServeConfig, backend: Backend, s3: S3Store | undefined, log: FastifyBaseLogger): ScheduleLoop {
  const { schedule, dir, retention } = config.backup!
  const store = config.remote ? `etcd at ${config.remote.endpoints.join(',')}` : `data dir ${config.dataDir}`
  const service = new BackupService({
    source: backendSource(backend, store, config.remote?.endpoints.length ?? 1),
    ...(dir !== undefined ? { dir } : {}),
    ...(s3 ? { s3 } : {}),
    retention,
    log: (level, fields, msg) => log[level](fields, msg),
    metrics: new BackupMetrics(registry),
  })
  service.metrics.scheduleInterval(schedule.intervalSeconds(new Date()))
  void service.observe()
  const loop = new ScheduleLoop(schedule, async () => void (await service.backup()))
  loop.start()
  return loop
}

/**
 * A backend opened by `open`; the `stopping` error (a described state of what is served, not a fault of
 * etcdgw's) stops the start with its message on one line and exit status 1.
 */
async function openOrStop<B>(open: () => Promise<B>, stopping: { code: string }): Promise<B> {
  try {
    return await open()
  } catch (err) {
    if (!(err instanceof EtcdError) || err.code !== stopping.code) throw err
    process.stderr.write(`etcdgw serve: ${err.message}\n`)
    process.exit(1)
  }
}

/** The remote backend; a replica that would not fit in --replica-max-bytes stops the start with etcd-style text. */
function openRemote(remote: RemoteConfig): Promise<Backend & { reloadTls(): boolean }> {
  const open = () =>
    openRemoteBackend({
      ...remote,
      requestTimeoutMs: remote.commandTimeoutMs,
      replica: remote.replica && { maxBytes: remote.replicaMaxBytes, prefixes: remote.replicaPrefixes },
    })
  return openOrStop(open, Errors.replicaTooLarge)
}

/** The embedded backend; a store that cannot be opened as it is (a damaged log) stops the start with a clear error. */
function openEmbedded(config: ServeConfig): Promise<Backend> {
  const open = () =>
    openEmbeddedBackend({
      dataDir: config.dataDir,
      name: config.name,
      maxTxnOps: config.maxTxnOps,
      bcryptCost: config.bcryptCost,
      authToken: config.authToken,
      authTokenTtlSeconds: config.authTokenTtlSeconds,
      maxRequestBytes: config.maxRequestBytes,
      quotaBackendBytes: config.quotaBackendBytes,
      progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
      clientUrls: config.advertiseClientUrls.map((u) => u.origin),
    })
  return openOrStop(open, Errors.logDamaged)
}

async function shutdown(
  apps: FastifyInstance[],
  backend: Backend,
  tls: ReloadingTls | undefined,
  remoteTls: RemoteTlsFollower | undefined,
): Promise<void> {
  await tls?.close()
  await remoteTls?.close()
  await Promise.all(apps.map((app) => app.close()))
  await backend.close()
}

function curlTlsFlags(config: ServeConfig): string {
  const ca = config.tls?.trustedCaFile
  return ca === undefined ? ' --cacert CA.crt' : ` --cacert ${ca} --cert CLIENT.crt --key CLIENT.key`
}

function urlOf(protocol: string, address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `${protocol}//${host}:${address.port}`
}
