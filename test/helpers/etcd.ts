import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { send } from './http.js'
import { freePort } from './process.js'
import { launch, type RunningServer, type Teardown } from './managed-server.js'

export type { RunningServer, Teardown } from './managed-server.js'

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd'
export const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl'

export interface TlsServerFiles {
  ca: string
  cert: string
  key: string
}

export interface EtcdOptions {
  /** Extra etcd flags, e.g. ['--max-request-bytes', '1024']. */
  flags?: string[]
  /** Serve clients over TLS and require client certificates signed by `ca`. */
  tls?: TlsServerFiles
  /**
   * Heartbeat 10 ms / election timeout 100 ms instead of 100 ms / 1000 ms. A single member then
   * answers ~60 ms after spawn instead of 0.2–1 s (measured here). It changes raft timing only, and
   * the minimum lease TTL (1.5 × election timeout), so it is for tests that do not look at either.
   */
  fastElection?: boolean
  /** Stop the server(s) when this test ends. */
  teardown?: Teardown
  startTimeoutMs?: number
}

/**
 * Whether tests needing etcd can run: false when it is installed, else the skip reason. With
 * CI=true a missing etcd is an error, never a skip.
 */
export function etcdMissing(): string | false {
  try {
    accessSync(ETCD_BIN, constants.X_OK)
    return false
  } catch {
    const reason = `etcd not found at ${ETCD_BIN} (apt-get install -y etcd-server, or set ETCD_BIN)`
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`)
    return reason
  }
}

function assertEtcdPresent(): void {
  const missing = etcdMissing()
  if (missing) throw new Error(missing)
}

const FAST_ELECTION = ['--heartbeat-interval', '10', '--election-timeout', '100']

async function healthy(url: string): Promise<boolean> {
  const res = await send(url, '/health', '', { method: 'GET', timeoutMs: 2_000 })
  return res.status === 200 && (JSON.parse(res.body) as { health?: string }).health === 'true'
}

/** etcd's /health is true once the member has a leader. */
export async function waitHealthy(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await healthy(url).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`etcd at ${url} not healthy after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function clientScheme(options: EtcdOptions): 'http' | 'https' {
  return options.tls ? 'https' : 'http'
}

/**
 * With --client-cert-auth even /health needs a client certificate, so a TLS member counts as
 * started once it listens (launch checks the socket), before it has a leader.
 */
function readiness(options: EtcdOptions): (url: string) => Promise<boolean> {
  return options.tls ? async () => true : healthy
}

interface MemberLayout {
  name: string
  clientPort: number
  peerPort: number
}

function memberArgs(self: MemberLayout, all: MemberLayout[], token: string, dataDir: string, options: EtcdOptions) {
  const peerUrl = (m: MemberLayout) => `http://127.0.0.1:${m.peerPort}`
  const clientUrl = `${clientScheme(options)}://127.0.0.1:${self.clientPort}`
  return [
    '--name', self.name,
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl(self),
    '--initial-advertise-peer-urls', peerUrl(self),
    '--initial-cluster', all.map((m) => `${m.name}=${peerUrl(m)}`).join(','),
    '--initial-cluster-token', token,
    '--initial-cluster-state', 'new',
    ...(options.tls
      ? ['--client-cert-auth', '--trusted-ca-file', options.tls.ca, '--cert-file', options.tls.cert, '--key-file', options.tls.key]
      : []),
    ...(options.fastElection ? FAST_ELECTION : []),
    ...(options.flags ?? []),
  ]
}

/** Start one etcd member on free loopback ports with a temporary data dir; ready when /health is true. */
export async function startEtcd(options: EtcdOptions = {}): Promise<RunningServer> {
  assertEtcdPresent()
  const token = `etcdgw-test-${randomBytes(6).toString('hex')}`
  return launch({
    what: 'etcd',
    command: ETCD_BIN,
    scheme: clientScheme(options),
    portCount: 2,
    args: ([clientPort, peerPort], dataDir) => {
      const self = { name: 'default', clientPort: clientPort!, peerPort: peerPort! }
      return memberArgs(self, [self], token, dataDir, options)
    },
    ready: readiness(options),
    startTimeoutMs: options.startTimeoutMs,
    teardown: options.teardown,
  })
}

/** A real etcd on a data dir made by `etcdctl snapshot restore`, on free loopback ports. */
export function startRestoredEtcd(dataDir: string, teardown: Teardown, ready: (url: string) => Promise<boolean>): Promise<RunningServer> {
  return launch({
    what: 'etcd-restored',
    command: ETCD_BIN,
    portCount: 2,
    args: ([client, peer]) => [
      '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${client}`,
      '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', `http://127.0.0.1:${peer}`,
      ...FAST_ELECTION,
    ],
    ready,
    teardown,
  })
}

export interface EtcdCluster {
  members: RunningServer[]
  /** Client URLs of all members, in member order. */
  endpoints(): string[]
  stop(): Promise<void>
}

/**
 * Start a cluster of `size` members (all on loopback, fresh data dirs) and wait until every member
 * reports healthy, i.e. a leader is elected and every member serves.
 */
export async function startEtcdCluster(size: number, options: EtcdOptions = {}): Promise<EtcdCluster> {
  assertEtcdPresent()
  for (let attempt = 1; ; attempt++) {
    const ports = await Promise.all(Array.from({ length: 2 * size }, freePort))
    const layout: MemberLayout[] = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      clientPort: ports[2 * i]!,
      peerPort: ports[2 * i + 1]!,
    }))
    const token = `etcdgw-test-${randomBytes(6).toString('hex')}`
    const started = await Promise.allSettled(
      layout.map((self) =>
        launch({
          what: `etcd-${self.name}`,
          command: ETCD_BIN,
          scheme: clientScheme(options),
          portCount: 2,
          ports: [self.clientPort, self.peerPort],
          args: (_ports, dataDir) => memberArgs(self, layout, token, dataDir, options),
          ready: readiness(options),
          startTimeoutMs: options.startTimeoutMs,
        }),
      ),
    )
    const members = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
    if (members.length === size) {
      const cluster: EtcdCluster = {
        members,
        endpoints: () => members.map((m) => m.url),
        stop: async () => {
          await Promise.all(members.map((m) => m.stop()))
        },
      }
      options.teardown?.teardown(() => cluster.stop())
      return cluster
    }
    await Promise.all(members.map((m) => m.stop()))
    // Ports are only reserved until etcd binds them, so a failed start is retried on fresh ports.
    if (attempt >= 3) {
      throw (started.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason
    }
  }
}

/**
 * A cluster of `size` real etcd members restored from one snapshot file, as an operator restores one:
 * `etcdctl snapshot restore` once per member (its name and peer URL, the same --initial-cluster and token),
 * each member then started on its restored data dir. Every member serves reads once healthy.
 */
export async function startRestoredEtcdCluster(snapshot: string, size: number, dir: string, teardown: Teardown): Promise<EtcdCluster> {
  assertEtcdPresent()
  const ports = await Promise.all(Array.from({ length: 2 * size }, freePort))
  const layout: MemberLayout[] = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }))
  const peerUrl = (m: MemberLayout) => `http://127.0.0.1:${m.peerPort}`
  const initialCluster = layout.map((m) => `${m.name}=${peerUrl(m)}`).join(',')
  const token = `etcdgw-restore-${randomBytes(6).toString('hex')}`
  for (const m of layout) {
    const restored = spawnSync(
      ETCDCTL_BIN,
      ['snapshot', 'restore', snapshot, '--name', m.name, '--initial-cluster', initialCluster, '--initial-cluster-token', token, '--initial-advertise-peer-urls', peerUrl(m), '--data-dir', join(dir, m.name)],
      { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' }, timeout: 60_000 },
    )
    if (restored.status !== 0) throw new Error(`etcdctl snapshot restore for ${m.name}: ${restored.stderr}`)
  }
  const members = await Promise.all(
    layout.map((m) =>
      launch({
        what: `etcd-restored-${m.name}`,
        command: ETCD_BIN,
        portCount: 2,
        ports: [m.clientPort, m.peerPort],
        args: () => [
          '--name', m.name,
          '--data-dir', join(dir, m.name),
          '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
          '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
          '--listen-peer-urls', peerUrl(m),
          ...FAST_ELECTION,
        ],
        ready: healthy,
        teardown,
      }),
    ),
  )
  return { members, endpoints: () => members.map((m) => m.url), stop: async () => void (await Promise.all(members.map((m) => m.stop()))) }
}
