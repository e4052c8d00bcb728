import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ExitedEarly, freePort, listensOn, onProcessExit, spawnServer, waitUntilReady, type ServerProcess } from './process.js'

/** A server process started for a test: real etcd or our own. */
export interface RunningServer {
  /** Client URL, e.g. http://127.0.0.1:40123 (changes only if restart() had to take a new port). */
  readonly url: string
  readonly pid: number
  readonly dataDir: string
  /** SIGKILL, wait for the exit, remove the temporary directory. */
  stop(): Promise<void>
  /** SIGTERM (SIGKILL after 10 s), wait for the exit, remove the temporary directory. */
  stopGracefully(): Promise<void>
  /** Send a signal and wait for the exit, keeping the data (crash tests: kill('SIGKILL') then restart()). */
  kill(signal: NodeJS.Signals): Promise<void>
  /** Stop gracefully if running, then start again on the same data dir (and port, when still free). */
  restart(): Promise<void>
}

/** Something that can take part in a teardown, such as a tap test. */
export interface Teardown {
  teardown(fn: () => unknown): void
}

export interface LaunchSpec {
  /** Name for error messages and the temporary directory. */
  what: string
  command: string
  /** The client URL's scheme; http unless the server serves clients over TLS. */
  scheme?: 'http' | 'https'
  /** How many ports to allocate; ports[0] is the client port. */
  portCount: number
  args(ports: number[], dataDir: string): string[]
  /** Resolves true once the server at url serves requests. */
  ready(url: string): Promise<boolean>
  /** Use these ports instead of free ones (members of one cluster must know each other's ports). */
  ports?: number[]
  startTimeoutMs?: number
  teardown?: Teardown
}

const ATTEMPTS = 5

export async function launch(spec: LaunchSpec): Promise<RunningServer> {
  const root = mkdtempSync(join(tmpdir(), `etcdgw-test-${spec.what.replace(/\W+/g, '-')}-`))
  const dataDir = join(root, 'data')
  mkdirSync(dataDir)
  const logFile = join(root, 'server.log')
  const timeoutMs = spec.startTimeoutMs ?? 30_000
  let ports: number[] = spec.ports ?? []
  let proc: ServerProcess | undefined
  let removed = false
  const cancelExitCleanup = onProcessExit(() => rmSync(root, { recursive: true, force: true }))

  const url = () => `${spec.scheme ?? 'http'}://127.0.0.1:${ports[0]}`

  async function startOnce(): Promise<void> {
    const args = spec.args(ports, dataDir)
    const p = spawnServer(spec.command, args, logFile, root)
    proc = p
    try {
      const ready = async () => (await spec.ready(url())) && listensOn(p.pid, ports[0]!)
      await waitUntilReady(p, ready, timeoutMs, `${spec.what} (${[spec.command, ...args].join(' ')})`)
    } catch (err) {
      await p.kill('SIGKILL')
      throw err
    }
  }

  async function start(keepPorts: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (!keepPorts || ports.length === 0) {
        ports = await Promise.all(Array.from({ length: spec.portCount }, freePort))
      }
      try {
        return await startOnce()
      } catch (err) {
        // A port taken between freePort() and bind makes the server exit at once: retry on new ports.
        // Fixed ports (cluster members) are the caller's to retry.
        if (!(err instanceof ExitedEarly) || spec.ports !== undefined || attempt >= ATTEMPTS) throw err
        keepPorts = false
      }
    }
  }

  async function halt(signal: NodeJS.Signals): Promise<void> {
    const p = proc
    if (!p || p.hasExited()) return
    if (signal === 'SIGKILL') {
      await p.kill('SIGKILL')
      return
    }
    const timer = setTimeout(() => void p.kill('SIGKILL'), 10_000)
    await p.kill(signal)
    clearTimeout(timer)
  }

  function remove(): void {
    if (removed) return
    removed = true
    cancelExitCleanup()
    rmSync(root, { recursive: true, force: true })
  }

  try {
    await start(spec.ports !== undefined)
  } catch (err) {
    remove()
    throw err
  }

  const server: RunningServer = {
    get url() {
      return url()
    },
    get pid() {
      return proc?.pid ?? -1
    },
    dataDir,
    async stop() {
      await halt('SIGKILL')
      remove()
    },
    async stopGracefully() {
      await halt('SIGTERM')
      remove()
    },
    async kill(signal) {
      await halt(signal)
    },
    async restart() {
      await halt('SIGTERM')
      await start(true)
    },
  }
  spec.teardown?.teardown(() => server.stop())
  return server
}

