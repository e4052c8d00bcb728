/**
 * `etcdgw serve` settings under etcd's flag names; each flag also reads etcd's environment variable
 * (ETCD_ + the flag in upper snake case). Flags win over the environment, the environment over defaults.
 */
import { statSync } from 'node:fs'
import { isIPv4 } from 'node:net'
import { InvalidArgumentError, Option } from 'commander'
import { parseDuration } from '../pki/duration.js'
import { MAX_BCRYPT_COST, MIN_BCRYPT_COST } from './auth/passwords.js'
import { type AuthTokenConfig, parseAuthToken } from './auth/token-config.js'
import type { RetentionPolicy } from './backup/retention.js'
import { parseSchedule, type Schedule } from './backup/schedule.js'
import { DEFAULT_REPLICA_MAX_BYTES } from './backend/remote/replica/replica-store.js'
import { s3FlagOptions, s3FlagValues, s3OptionsOf } from './backup/s3-flags.js'
import type { S3Options } from './backup/s3-options.js'
import { type CorsOrigins, parseCorsOrigins } from './http/cors.js'

export interface ServeConfig {
  name: string
  dataDir: string
  listenClientUrls: URL[]
  advertiseClientUrls: URL[]
  maxRequestBytes: number
  maxTxnOps: number
  /** etcd's --experimental-watch-progress-notify-interval, in ms. */
  watchProgressNotifyIntervalMs: number
  /** Unread bytes a watch client may leave before its watches are canceled. */
  watchSendBufferBytes: number
  streamSendBudgetBytes: number
  /** etcd's --quota-backend-bytes (0: etcd's default of 2 GiB; negative: no quota). */
  quotaBackendBytes: number
  /** Remote mode: the etcd cluster to front (etcdctl's --endpoints); embedded when absent. */
  remote?: RemoteConfig
  /** The embedded store's auth: etcd's --bcrypt-cost and --auth-token-ttl (seconds). */
  bcryptCost: number
  authToken: AuthTokenConfig
  authTokenTtlSeconds: number
  logLevel: LogLevel
  /** Serve /openapi.json and /docs. */
  apiDocs: boolean
  /** Serve the web console at /ui/. */
  ui: boolean
  /** etcd's --cors: the origins whose pages may read the answers. */
  cors: CorsOrigins
  /** A kubeadm-layout PKI directory whose certificates join the expiry gauges (and the console's table). */
  pkiDir?: string
  /** set when any listen URL is https:// */
  tls?: TlsConfig
  /** Scheduled backups of the store this server serves (--backup-schedule, --backup-dir). */
  backup?: BackupConfig
  /** plain-HTTP listen URLs that are not on a loopback address (allowed only with --insecure-listen-non-loopback) */
  insecureNonLoopbackUrls: URL[]
  /** TLS flags given: http:// URLs ignore them, as etcd does (with a warning) */
  tlsFlagsGiven: string[]
}

export interface TlsConfig {
  certFile: string
  keyFile: string
  /** with it, every client must present a certificate chaining to one of its CAs */
  trustedCaFile?: string
  /** client certificates whose serial it lists are refused (etcd's --client-crl-file) */
  clientCrlFile?: string
  /** etcd's --client-cert-auth: a verified client certificate's common name names the user */
  clientCertAuth?: boolean
}

export interface BackupConfig {
  schedule: Schedule
  /** The backup directory; with `s3`, either or both. */
  dir?: string
  s3?: S3Options
  retention: RetentionPolicy
}

export interface RemoteConfig {
  endpoints: string[]
  /** Each request to etcd, retries included, ends within this time (etcdctl's --command-timeout). */
  commandTimeoutMs: number
  cacert?: string
  cert?: string
  key?: string
  /** Serve reads and watches from a watch-fed replica of the keyspace (--replica). */
  replica: boolean
  /** The replica refuses to start when its estimated memory would pass this (--replica-max-bytes). */
  replicaMaxBytes: number
  /** The replica keeps only the keys under these prefixes (--replica-prefixes); undefined: every key. */
  replicaPrefixes: Buffer[] | undefined
}

export const logLevels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof logLevels)[number]

/** The values as commander hands them over (strings, or undefined when neither flag nor env is set). */
export interface ServeFlags {
  name: string
  dataDir?: string
  listenClientUrls: string
  advertiseClientUrls?: string
  maxRequestBytes: string
  maxTxnOps: string
  experimentalWatchProgressNotifyInterval: string
  watchSendBufferBytes: string
  streamSendBudgetBytes: string
  quotaBackendBytes: string
  bcryptCost: string
  authToken: string
  authTokenTtl: string
  endpoints?: string
  commandTimeout: string
  cacert?: string
  cert?: string
  key?: string
  replica?: boolean
  replicaMaxBytes: string
  replicaPrefixes?: string
  logLevel: LogLevel
  certFile?: string
  keyFile?: string
  trustedCaFile?: string
  clientCrlFile?: string
  clientCertAuth?: boolean
  insecureListenNonLoopback?: boolean
  apiDocs?: boolean
  ui?: boolean
  cors: string
  pkiDir?: string
  backupSchedule?: string
  backupDir?: string
  backupKeep?: string
  backupKeepFor?: string
  backupKeepPolicy?: string
}

export class ConfigError extends Error {}

const envName = (flag: string) => 'ETCD_' + flag.replace(/-/g, '_').toUpperCase()

const flag = (name: string, description: string) => new Option(`--${name} <value>`, description).env(envName(name))
/** etcdgw's own flags, which etcd does not have, read ETCDGW_ variables. */
const ownFlag = (name: string, description: string) =>
  new Option(`--${name} <value>`, description).env('ETCDGW_' + name.replace(/-/g, '_').toUpperCase())
/** The remote backend's flags are etcdctl's, and read etcdctl's environment variables. */
const clientFlag = (name: string, description: string) =>
  new Option(`--${name} <value>`, description).env('ETCDCTL_' + name.replace(/-/g, '_').toUpperCase())

/** A Go-style bool flag: `--x`, `--x=true|false` or the env var's value (commander's plain booleans ignore it). */
const boolFlag = (name: string, envVar: string, description: string) =>
  new Option(`--${name} [bool]`, description).env(envVar).argParser(parseGoBool)

export function serveOptions(): Option[] {
  return [
    flag('name', 'human-readable name for this member').default('default'),
    flag('data-dir', 'path to the data directory (default: <name>.etcdgw)'),
    flag('listen-client-urls', 'comma-separated URLs to listen on for client traffic').default('http://127.0.0.1:2379'),
    flag('advertise-client-urls', 'comma-separated client URLs to advertise (default: the listen URLs)'),
    flag('max-request-bytes', 'maximum client request size in bytes the server will accept').default('1572864'),
    flag('max-txn-ops', 'maximum number of operations permitted in a transaction').default('128'),
    flag('experimental-watch-progress-notify-interval', 'duration of periodic watch progress notifications').default('10m0s'),
    flag('watch-send-buffer-bytes', 'unread bytes a stream client may leave: past them it is not read, and events cancel its watches').default(
      String(8 * 1024 * 1024),
    ),
    flag('stream-send-budget-bytes', 'unread bytes all stream clients together may leave before the slowest are shed').default(
      String(256 * 1024 * 1024),
    ),
    flag('quota-backend-bytes', 'raise the NOSPACE alarm when the backend exceeds this size (0: 2 GiB)').default('0'),
    flag('bcrypt-cost', 'the cost of the bcrypt hashes of auth passwords (4 to 31)').default('10'),
    flag('auth-token', 'auth tokens: simple, or jwt,pub-key=<file>,priv-key=<file>,sign-method=<RS256|ES256|…>,ttl=<duration>').default(
      'simple',
    ),
    flag('auth-token-ttl', 'seconds a simple auth token lives after its last use').default('300'),
    clientFlag('endpoints', 'remote mode: comma-separated etcd endpoints to front instead of the embedded store'),
    clientFlag('command-timeout', 'remote mode: a request to etcd, retries included, fails after this (503)').default('5s'),
    clientFlag('cacert', 'remote mode: CA bundle verifying the etcd servers'),
    clientFlag('cert', 'remote mode: client certificate for etcd'),
    clientFlag('key', 'remote mode: client key for etcd'),
    boolFlag('replica', 'ETCDGW_REPLICA', 'remote mode: answer reads and watches from a watch-fed replica of the keyspace (--replica=false: every request goes to etcd)').default(true),
    ownFlag('replica-max-bytes', 'remote mode: refuse to start when the replica would take more memory than this').default(String(DEFAULT_REPLICA_MAX_BYTES)),
    ownFlag('replica-prefixes', 'remote mode: comma-separated key prefixes the replica keeps (default: every key); requests touching other keys go to etcd'),
    flag('log-level', 'log level').choices(logLevels).default('warn'),
    flag('cert-file', 'path to the client server TLS cert file (served on https:// listen URLs)'),
    flag('key-file', 'path to the client server TLS key file'),
    flag('trusted-ca-file', 'path to the client server TLS trusted CA bundle; clients must present a certificate from one of its CAs'),
    boolFlag('client-cert-auth', envName('client-cert-auth'), 'require clients to present a certificate chaining to --trusted-ca-file'),
    flag('client-crl-file', 'path to the client certificate revocation list file; a client certificate it revokes is refused'),
    boolFlag(
      'insecure-listen-non-loopback',
      'ETCDGW_INSECURE_LISTEN_NON_LOOPBACK',
      'allow plain http:// listen URLs on non-loopback addresses (anyone on the network can read and write)',
    ),
    boolFlag('api-docs', 'ETCDGW_API_DOCS', 'serve /openapi.json and the API explorer at /docs (--api-docs=false: neither)').default(true),
    boolFlag('ui', 'ETCDGW_UI', 'serve the web console at /ui/ (--ui=false: not)').default(true),
    ownFlag('pki-dir', "a kubeadm-layout PKI directory (etcdgw certs') whose certificates /metrics and the console's expiry table list too"),
    flag('cors', "comma-separated origins whose web pages may read the answers (scheme://host[:port]), or '*' for every origin").default('*'),
    ownFlag('backup-schedule', 'back up the store served on this schedule: cron (5 or 6 fields, UTC) or @every <duration>'),
    ownFlag('backup-dir', 'the directory for --backup-schedule\'s backups'),
    ...s3FlagOptions('backup-', (name) => 'ETCDGW_' + name.slice(2).replace(/-/g, '_').toUpperCase()),
    ownFlag('backup-keep', 'keep the newest N verified backups'),
    ownFlag('backup-keep-for', 'keep backups younger than this (e.g. 7d)'),
    ownFlag('backup-keep-policy', 'exponential: all of the last hour, one per hour for 24 h, per day for 7 days, per week for 4 weeks').choices(['exponential']),
  ]
}

/** Validates the flags; throws ConfigError with a message naming the flag. */
export function resolveServeConfig(flags: ServeFlags): ServeConfig {
  if (flags.name === '') throw new ConfigError('--name must not be empty')
  const listenClientUrls = urlList('--listen-client-urls', flags.listenClientUrls)
  const insecureNonLoopbackUrls = listenClientUrls.filter((url) => url.protocol === 'http:' && !isLoopbackHost(url.hostname))
  if (insecureNonLoopbackUrls.length > 0 && flags.insecureListenNonLoopback !== true) {
    throw new ConfigError(
      `--listen-client-urls: ${insecureNonLoopbackUrls[0]!.origin} would serve plain HTTP on a non-loopback address; ` +
        'use an https:// URL with --cert-file and --key-file, or pass --insecure-listen-non-loopback to accept that',
    )
  }
  return {
    name: flags.name,
    dataDir: flags.dataDir || `${flags.name}.etcdgw`,
    listenClientUrls,
    advertiseClientUrls: flags.advertiseClientUrls
      ? urlList('--advertise-client-urls', flags.advertiseClientUrls)
      : listenClientUrls,
    maxRequestBytes: positiveInteger('--max-request-bytes', flags.maxRequestBytes),
    maxTxnOps: positiveInteger('--max-txn-ops', flags.maxTxnOps),
    watchProgressNotifyIntervalMs: positiveDuration(
      '--experimental-watch-progress-notify-interval',
      flags.experimentalWatchProgressNotifyInterval,
    ),
    watchSendBufferBytes: positiveInteger('--watch-send-buffer-bytes', flags.watchSendBufferBytes),
    streamSendBudgetBytes: positiveInteger('--stream-send-budget-bytes', flags.streamSendBudgetBytes),
    quotaBackendBytes: integer('--quota-backend-bytes', flags.quotaBackendBytes),
    remote: remoteConfig(flags),
    bcryptCost: bcryptCost(flags.bcryptCost),
    authToken: authToken(flags.authToken),
    authTokenTtlSeconds: positiveInteger('--auth-token-ttl', flags.authTokenTtl),
    logLevel: flags.logLevel,
    apiDocs: flags.apiDocs !== false,
    ui: flags.ui !== false,
    cors: corsOrigins(flags.cors),
    ...(flags.pkiDir ? { pkiDir: existingDir('--pki-dir', flags.pkiDir) } : {}),
    ...tlsConfig(flags, listenClientUrls),
    ...backupConfig(flags),
    insecureNonLoopbackUrls,
  }
}

function existingDir(flag: string, dir: string): string {
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`${flag}: ${dir} is not a directory`)
  return dir
}

function corsOrigins(value: string): CorsOrigins {
  try {
    return parseCorsOrigins(value)
  } catch (err) {
    throw new ConfigError(`--cors: ${(err as Error).message}`)
  }
}

function backupConfig(flags: ServeFlags): { backup?: BackupConfig } {
  const retentionGiven = flags.backupKeep !== undefined || flags.backupKeepFor !== undefined || flags.backupKeepPolicy !== undefined
  let s3: S3Options | undefined
  try {
    s3 = s3OptionsOf(s3FlagValues(flags, 'backup-'), 'backup-')
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  if (flags.backupSchedule === undefined) {
    if (flags.backupDir !== undefined || s3 || retentionGiven) throw new ConfigError('--backup-dir, --backup-s3-bucket and the --backup-keep flags need --backup-schedule')
    return {}
  }
  if (!flags.backupDir && !s3) throw new ConfigError('--backup-schedule needs --backup-dir, --backup-s3-bucket or both')
  let schedule: Schedule
  try {
    schedule = parseSchedule(flags.backupSchedule)
  } catch (err) {
    throw new ConfigError((err as Error).message.replace(/^--schedule/, '--backup-schedule'))
  }
  const retention: RetentionPolicy = {
    ...(flags.backupKeep !== undefined ? { keep: positiveInteger('--backup-keep', flags.backupKeep) } : {}),
    ...(flags.backupKeepFor !== undefined ? { keepForMs: positiveDuration('--backup-keep-for', flags.backupKeepFor) } : {}),
    ...(flags.backupKeepPolicy === 'exponential' ? { exponential: true } : {}),
  }
  return { backup: { schedule, ...(flags.backupDir ? { dir: flags.backupDir } : {}), ...(s3 ? { s3 } : {}), retention } }
}

/** etcd's rules: an https:// URL needs cert and key; a trusted CA file alone already requires client certificates. */
function tlsConfig(flags: ServeFlags, urls: URL[]): { tls?: TlsConfig; tlsFlagsGiven: string[] } {
  const tlsFlagsGiven = [
    flags.certFile && '--cert-file',
    flags.keyFile && '--key-file',
    flags.trustedCaFile && '--trusted-ca-file',
    flags.clientCertAuth === true && '--client-cert-auth',
    flags.clientCrlFile && '--client-crl-file',
  ].filter((name): name is string => typeof name === 'string' && name !== '')
  const https = urls.find((url) => url.protocol === 'https:')
  if (!https) return { tlsFlagsGiven }
  if (!flags.certFile && !flags.keyFile) {
    throw new ConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${https.origin} with HTTPS scheme`)
  }
  if (!flags.certFile || !flags.keyFile) throw new ConfigError('--cert-file and --key-file must both be given')
  // etcd would verify client certificates against the system roots; no one means that.
  if (flags.clientCertAuth === true && !flags.trustedCaFile) {
    throw new ConfigError('--client-cert-auth needs --trusted-ca-file (the CA bundle client certificates must chain to)')
  }
  return {
    tls: {
      certFile: flags.certFile,
      keyFile: flags.keyFile,
      ...(flags.trustedCaFile ? { trustedCaFile: flags.trustedCaFile } : {}),
      ...(flags.clientCrlFile ? { clientCrlFile: flags.clientCrlFile } : {}),
      clientCertAuth: flags.clientCertAuth === true,
    },
    tlsFlagsGiven,
  }
}

/** Hosts that reach only this machine (URL has normalized IP spellings). Any other name might resolve anywhere. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'))
}

/** Go's strconv.ParseBool, as etcd's bool flags and env vars accept. */
function parseGoBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  throw new InvalidArgumentError(`"${value}" is not a boolean (true or false)`)
}

function urlList(name: string, value: string): URL[] {
  const urls = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (urls.length === 0) throw new ConfigError(`${name}: at least one URL is required`)
  return urls.map((s) => {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      throw new ConfigError(`${name}: "${s}" is not a URL (expected e.g. http://127.0.0.1:2379)`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${name}: "${s}": only http:// and https:// URLs are supported`)
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      throw new ConfigError(`${name}: "${s}" must not have a path, query or fragment`)
    }
    return url
  })
}

function remoteConfig(flags: ServeFlags): RemoteConfig | undefined {
  const endpoints = (flags.endpoints ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (endpoints.length === 0) {
    if (flags.cacert || flags.cert || flags.key) throw new ConfigError('--cacert, --cert and --key need --endpoints')
    return undefined
  }
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new ConfigError('--cert and --key must be given together')
  const commandTimeoutMs = positiveDuration('--command-timeout', flags.commandTimeout)
  return {
    endpoints,
    commandTimeoutMs,
    cacert: flags.cacert,
    cert: flags.cert,
    key: flags.key,
    replica: flags.replica !== false,
    replicaMaxBytes: positiveInteger('--replica-max-bytes', flags.replicaMaxBytes),
    replicaPrefixes: replicaPrefixes(flags.replicaPrefixes),
  }
}

/** etcdctl's byte prefixes, as UTF-8; none given (or only empty ones): undefined, every key. */
function replicaPrefixes(value: string | undefined): Buffer[] | undefined {
  const prefixes = (value ?? '').split(',').filter((p) => p !== '')
  return prefixes.length > 0 ? prefixes.map((p) => Buffer.from(p)) : undefined
}

function integer(name: string, value: string): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n)) throw new ConfigError(`${name}: "${value}" is not an integer`)
  return n
}

function authToken(value: string): AuthTokenConfig {
  try {
    return parseAuthToken(value)
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
}

function bcryptCost(value: string): number {
  const cost = integer('--bcrypt-cost', value)
  if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    throw new ConfigError(`--bcrypt-cost must be from ${MIN_BCRYPT_COST} to ${MAX_BCRYPT_COST}, not ${value}`)
  }
  return cost
}

function positiveInteger(name: string, value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${name}: "${value}" is not a positive integer`)
  return n
}

/** A Go duration (`10m`, `1m30s`, `500ms`, `1.5h`) in whole milliseconds, at least 1. */
function positiveDuration(name: string, value: string): number {
  let ms: number
  try {
    ms = parseDuration(value.trim())
  } catch {
    ms = NaN
  }
  if (!(ms >= 1)) throw new ConfigError(`${name}: "${value}" is not a positive duration (e.g. 10m, 5s, 500ms)`)
  return ms
}
