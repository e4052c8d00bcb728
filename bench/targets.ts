import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RANGE_KEY, RANGE_VALUE } from './ops.js'
import { stop, track, trackDir } from './processes.js'

/** A server under test, running in a process of its own on a loopback port. */
export interface Target {
  readonly name: TargetName
  readonly url: string
  /** The server process's PID (a new one after restart()). */
  readonly pid: number
  /** Resident set size of the server process now (from /proc). */
  rssBytes(): number
  /** CPU seconds (user + system, all threads) the server process has used so far. */
  cpuSeconds(): number
  /** Disk space (allocated blocks) under the target's own directory: its data dir, log and temp files. */
  diskBytes(): number
  /** Why the process is gone (exit code or signal), or undefined while it runs. */
  exited(): string | undefined
  stop(): Promise<void>
  /**
   * Stops the server (SIGTERM, until it exits) and starts it again on the same data: the seconds each
   * took, the start until the first answered range (asked every 10 ms).
   */
  restart(): Promise<{ stopSeconds: number; startSeconds: number }>
}

export type TargetName = 'etcd' | 'etcdgw' | 'ceiling' | 'etcdgw-remote'
/** The KV matrix's targets; etcdgw-remote runs in the remote section, in front of that section's etcd. */
export const TARGET_NAMES: readonly TargetName[] = ['etcd', 'etcdgw', 'ceiling']

export const ETCD_BIN = '/usr/bin/etcd'
export const ETCDGW_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url))
const BARE_FASTIFY = fileURLToPath(new URL('./bare-fastify.js', import.meta.url))
const BARE_WS_FANOUT = fileURLToPath(new URL('./bare-ws-fanout.js', import.meta.url))
const READY_TIMEOUT_MS = 30_000

export interface StartOptions {
  /** Extra flags for node when the target is a Node process (e.g. --cpu-prof). */
  nodeArgs?: string[]
  /** etcdgw-remote: the etcd client URL it fronts. */
  upstream?: string
  /** etcdgw-remote: more `serve` flags (e.g. --replica=false). */
  serveFlags?: string[]
}

export async function startTarget(name: TargetName, opts: StartOptions = {}): Promise<Target> {
  switch (name) {
    case 'etcd':
      return startEtcd()
    case 'etcdgw':
      return startEtcdgw(opts.nodeArgs ?? [])
    case 'ceiling':
      return startCeiling(opts.nodeArgs ?? [])
    case 'etcdgw-remote':
      if (!opts.upstream) throw new Error('etcdgw-remote needs the upstream etcd URL')
      return startEtcdgwRemote(opts.upstream, opts.nodeArgs ?? [], opts.serveFlags ?? [])
  }
}

/** Real etcd 3.4: its JSON gateway on the client URL is the baseline. */
async function startEtcd(): Promise<Target> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-etcd-')))
  const [client, peer] = [await freePort(), await freePort()]
  const url = `http://127.0.0.1:${client}`
  const peerUrl = `http://127.0.0.1:${peer}`
  return launch('etcd', url, dir, ETCD_BIN, [
    '--name', 'bench',
    '--data-dir', join(dir, 'data'),
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `bench=${peerUrl}`,
  ])
}

/** etcdgw with the embedded store, started the way users start it. */
async function startEtcdgw(nodeArgs: string[]): Promise<Target> {
  if (!existsSync(ETCDGW_MAIN)) throw new Error(`${ETCDGW_MAIN} is missing: run npm run build`)
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-gw-')))
  const url = `http://127.0.0.1:${await freePort()}`
  return launch('etcdgw', url, dir, process.execPath, [
    ...nodeArgs, ETCDGW_MAIN, 'serve', '--listen-client-urls', url, '--data-dir', join(dir, 'data'),
  ])
}

/** etcdgw in front of a running etcd (remote mode), started the way users start it. */
async function startEtcdgwRemote(upstream: string, nodeArgs: string[], serveFlags: string[]): Promise<Target> {
  if (!existsSync(ETCDGW_MAIN)) throw new Error(`${ETCDGW_MAIN} is missing: run npm run build`)
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-remote-')))
  const url = `http://127.0.0.1:${await freePort()}`
  return launch('etcdgw-remote', url, dir, process.execPath, [
    ...nodeArgs, ETCDGW_MAIN, 'serve', '--listen-client-urls', url, '--endpoints', upstream, ...serveFlags,
  ])
}

/** A bare Fastify endpoint: what one Node process can serve on this machine at all. */
async function startCeiling(nodeArgs: string[]): Promise<Target> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-ceiling-')))
  const port = await freePort()
  return launch('ceiling', `http://127.0.0.1:${port}`, dir, process.execPath, [...nodeArgs, BARE_FASTIFY, String(port)])
}

/** The ceiling for the watch fan-out: node:http + a bare `ws` server sending etcd-shaped frames. */
export async function startFanoutCeiling(): Promise<Target> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-ws-ceiling-')))
  const port = await freePort()
  return launch('ceiling', `http://127.0.0.1:${port}`, dir, process.execPath, [BARE_WS_FANOUT, String(port)])
}

async function launch(name: TargetName, url: string, dir: string, cmd: string, args: string[]): Promise<Target> {
  const logPath = join(dir, 'server.log')
  const log = openSync(logPath, 'a')
  const start = () => {
    const started = track(spawn(cmd, args, { stdio: ['ignore', log, log] }))
    if (started.pid === undefined) throw new Error(`${name}: could not start ${cmd}`)
    return started
  }
  let child = start()
  const failed = async (err: unknown) => {
    await stop(child, 'SIGKILL')
    return new Error(`${name} did not come up on ${url}: ${(err as Error).message}\n--- ${logPath}:\n${tail(logPath)}`)
  }
  try {
    await waitReady(child, url)
    await seed(url)
  } catch (err) {
    throw await failed(err)
  }
  const exited = (): string | undefined =>
    child.exitCode !== null || child.signalCode !== null ? String(child.signalCode ?? child.exitCode) : undefined
  const restart = async () => {
    const stopping = performance.now()
    await stop(child, 'SIGTERM', READY_TIMEOUT_MS)
    const starting = performance.now()
    child = start()
    try {
      await waitReady(child, url, 10)
    } catch (err) {
      throw await failed(err)
    }
    return { stopSeconds: (starting - stopping) / 1000, startSeconds: (performance.now() - starting) / 1000 }
  }
  return {
    name,
    url,
    get pid() {
      return child.pid!
    },
    rssBytes: () => rssOf(child.pid!),
    cpuSeconds: () => cpuOf(child.pid!),
    diskBytes: () => diskOf(dir),
    exited,
    stop: () => stop(child),
    restart,
  }
}

/** Ready = it answers a range on the gateway path with 200 (asked every `pollMs`). */
async function waitReady(child: ChildProcess, url: string, pollMs = 100): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.signalCode ?? child.exitCode})`)
    try {
      const res = await post(url, '/v3/kv/range', { key: b64(RANGE_KEY) })
      if (res.status === 200) return
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no 200 from /v3/kv/range within ${READY_TIMEOUT_MS} ms`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}

/** The key the range op reads. */
async function seed(url: string): Promise<void> {
  const res = await post(url, '/v3/kv/put', { key: b64(RANGE_KEY), value: b64(RANGE_VALUE) })
  if (res.status !== 200) throw new Error(`seeding ${RANGE_KEY}: HTTP ${res.status} ${await res.text()}`)
}

function post(url: string, path: string, body: object): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2000),
  })
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

/** CPU seconds (user + system) process `pid` has used so far. */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

function diskOf(path: string): number {
  const st = lstatSync(path, { throwIfNoEntry: false })
  if (!st) return 0
  let bytes = st.blocks * 512
  if (!st.isDirectory()) return bytes
  let names: string[] = []
  try {
    names = readdirSync(path)
  } catch {
    // removed while we looked
  }
  for (const name of names) bytes += diskOf(join(path, name))
  return bytes
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-30).join('\n')
  } catch {
    return '(no log)'
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}
