/**
 * Real etcd members for the remote backend tests, until the shared test/helpers/etcd.ts lands on
 * main: free loopback ports, temporary data dirs, processes killed by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs'
import { Socket, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guardChild } from '../../../helpers/process.js'

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd'

/** false when etcd is installed, else why the test is skipped; with CI=true a missing etcd fails. */
export function etcdMissing(): string | false {
  try {
    accessSync(ETCD_BIN, constants.X_OK)
    return false
  } catch {
    const reason = `etcd not found at ${ETCD_BIN}`
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`)
    return reason
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export interface EtcdMember {
  readonly name: string
  /** Client URL (http or https). */
  readonly url: string
  readonly dataDir: string
  readonly pid: number
  /** Sends the signal and waits for the exit; the data dir stays. */
  kill(signal: NodeJS.Signals): Promise<void>
  /** Starts the member again on the same ports and data dir; resolves once it answers /health. */
  restart(): Promise<void>
  /** SIGKILL and remove the data. */
  stop(): Promise<void>
}

export interface TlsServerFiles {
  ca: string
  cert: string
  key: string
}

interface Layout {
  name: string
  clientPort: number
  peerPort: number
}

export interface EtcdOptions {
  flags?: string[]
  /** Serve clients over TLS and require client certificates signed by `ca`. */
  tls?: TlsServerFiles
}

async function launchMember(self: Layout, all: Layout[], token: string, opts: EtcdOptions): Promise<EtcdMember> {
  const root = mkdtempSync(join(tmpdir(), `etcdgw-remote-${self.name}-`))
  const dataDir = join(root, 'data')
  const scheme = opts.tls ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${self.clientPort}`
  const peer = (m: Layout) => `http://127.0.0.1:${m.peerPort}`
  const args = [
    '--name', self.name,
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peer(self),
    '--initial-advertise-peer-urls', peer(self),
    '--initial-cluster', all.map((m) => `${m.name}=${peer(m)}`).join(','),
    '--initial-cluster-token', token,
    '--initial-cluster-state', 'new',
    ...(opts.tls
      ? ['--client-cert-auth', '--trusted-ca-file', opts.tls.ca, '--cert-file', opts.tls.cert, '--key-file', opts.tls.key]
      : []),
    ...(opts.flags ?? []),
  ]
  let child: ChildProcess
  let exited: Promise<void>
  const start = () => {
    const log = openSync(join(root, 'etcd.log'), 'a')
    child = spawn(ETCD_BIN, args, { stdio: ['ignore', log, log] })
    closeSync(log)
    guardChild(child)
    const c = child
    exited = new Promise((resolve) => c.on('exit', () => resolve()))
  }
  start()
  const member: EtcdMember = {
    name: self.name,
    url,
    dataDir,
    get pid() {
      return child.pid ?? -1
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      await exited
    },
    async restart() {
      await member.kill('SIGTERM')
      start()
      await waitListening(self.clientPort)
    },
    async stop() {
      await member.kill('SIGKILL')
      rmSync(root, { recursive: true, force: true })
    },
  }
  await waitListening(self.clientPort)
  return member
}

/** Resolves once something accepts TCP connections on the port (etcd listens before it has a leader). */
async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket()
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
      s.connect(port, '127.0.0.1')
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`etcd on port ${port} did not start`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** A cluster of `size` members on loopback (size 1: a single member). */
export async function startEtcdCluster(size: number, opts: EtcdOptions = {}): Promise<EtcdMember[]> {
  const ports = await Promise.all(Array.from({ length: 2 * size }, freePort))
  const layout = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }))
  const token = `etcdgw-remote-${process.pid}-${Date.now()}`
  const members = await Promise.all(layout.map((self) => launchMember(self, layout, token, opts)))
  if (!opts.tls) await Promise.all(members.map((m) => waitHealthy(m.url)))
  return members
}

/** etcd's /health is true once the member has a leader. */
export async function waitHealthy(url: string): Promise<void> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const res = await fetch(`${url}/health`).then((r) => r.json() as Promise<{ health?: string }>, () => undefined)
    if (res?.health === 'true') return
    if (Date.now() > deadline) throw new Error(`etcd at ${url} not healthy: ${JSON.stringify(res)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdMember> {
  return (await startEtcdCluster(1, opts))[0]!
}
