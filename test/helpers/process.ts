import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'

/**
 * Server processes started by tests. Every child is tracked here and killed when this process exits
 * (normally, by an uncaught error or by SIGINT/SIGTERM). A watchdog shell also kills them when this
 * process dies by SIGKILL, which no exit hook can see (startWatchdog).
 */
export interface ServerProcess {
  readonly pid: number
  readonly exited: Promise<number | null>
  hasExited(): boolean
  kill(signal: NodeJS.Signals): Promise<number | null>
  /** The last lines the process wrote to stdout/stderr, for error messages. */
  logTail(lines?: number): string
}

const live = new Set<ChildProcess>()
const exitTasks = new Set<() => void>()
let hooksInstalled = false

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
  for (const task of exitTasks) task()
  exitTasks.clear()
}

/** Run a synchronous cleanup when this process exits; returns a function that cancels it. */
export function onProcessExit(task: () => void): () => void {
  installExitHooks()
  exitTasks.add(task)
  return () => exitTasks.delete(task)
}

function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', killAllNow)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Re-raise after cleanup so the default action (exit by that signal) still happens.
    process.once(signal, () => {
      killAllNow()
      process.kill(process.pid, signal)
    })
  }
}

/**
 * One watchdog shell for all of this process's children: it blocks reading a pipe from us, and when the kernel
 * closes that pipe (we died, even by SIGKILL) it kills every child listed in its file and removes their
 * directories. The file lists the children alive now; a child is struck off when it exits, so a recycled PID is
 * never killed. One shell, not one a child: every spawn forks this whole process, and a conformance run starts
 * hundreds of servers.
 */
const guarded = new Map<number, string>()
let watchdogFile: string | undefined

function startWatchdog(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'etcdgw-watchdog-')), 'children')
  writeFileSync(file, '')
  const script = [
    'read x',
    'tab=$(printf "\\t")',
    'while IFS=$tab read -r pid dir; do kill -9 "$pid" 2>/dev/null; done < "$0"',
    'sleep 0.2',
    'while IFS=$tab read -r pid dir; do [ -z "$dir" ] || rm -rf "$dir"; done < "$0"',
    'rm -rf "$(dirname "$0")"',
  ].join('\n')
  const watchdog = spawn('sh', ['-c', script, file], { stdio: ['pipe', 'ignore', 'ignore'] })
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref(): void }).unref()
  watchdog.on('error', () => {})
  watchdog.stdin?.on('error', () => {})
  // a normal exit kills the children itself (killAllNow): the watchdog then only removes its file
  exitTasks.add(() => writeFileSync(file, ''))
  return file
}

function writeGuarded(): void {
  watchdogFile ??= startWatchdog()
  writeFileSync(watchdogFile, [...guarded].map(([pid, dir]) => `${pid}\t${dir}\n`).join(''))
}

/**
 * Track a child this process started: killed by the exit hooks, and by the watchdog if this process
 * is killed (tap's timeout sends SIGKILL); cleanupDir, if given, is removed then too.
 */
export function guardChild(child: ChildProcess, cleanupDir = ''): void {
  installExitHooks()
  const pid = child.pid
  if (pid === undefined) return
  live.add(child)
  guarded.set(pid, cleanupDir)
  writeGuarded()
  child.on('exit', () => {
    live.delete(child)
    guarded.delete(pid)
    writeGuarded()
  })
}

/**
 * Spawn a long-running server with its output going to logFile. If this process dies without
 * stopping it, the server is killed and cleanupDir removed.
 */
export function spawnServer(command: string, args: string[], logFile: string, cleanupDir: string): ServerProcess {
  const fd = openSync(logFile, 'a')
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] })
  closeSync(fd)
  if (child.pid === undefined) {
    // spawn failures (ENOENT) are reported asynchronously; surface them now.
    throw new Error(`cannot start ${command}`)
  }
  const pid = child.pid
  // A server a test forgot to stop must not keep the test process alive; the exit hook kills it.
  child.unref()
  guardChild(child, cleanupDir)
  let done = false
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      done = true
      resolve(code ?? (signal ? -1 : null))
    })
  })
  child.on('error', () => {})
  return {
    pid,
    exited,
    hasExited: () => done,
    async kill(signal) {
      if (!done) {
        // Waiting for the exit must keep this process alive.
        child.ref()
        child.kill(signal)
      }
      return exited
    },
    logTail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')
      } catch {
        return ''
      }
    },
  }
}

/**
 * A TCP port that was free a moment ago on 127.0.0.1. Another process can take it before the caller
 * binds it, so callers retry with a new port when their server fails to start.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Poll probe until it resolves true; fail early when the process exits, or after timeoutMs. */
export async function waitUntilReady(
  proc: ServerProcess,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    if (proc.hasExited()) throw new ExitedEarly(`${what} exited during start-up:\n${proc.logTail()}`)
    if (await probe().catch(() => false)) return
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${timeoutMs} ms:\n${proc.logTail()}`)
    }
    await new Promise((r) => setTimeout(r, delay))
  }
}

/** The process died before it was ready (most often: a port taken between freePort() and bind). */
export class ExitedEarly extends Error {
  override name = 'ExitedEarly'
}

/**
 * Whether process pid holds the listening socket on 127.0.0.1:port. A readiness probe alone cannot
 * tell: when another process takes the port first, our server exits, but the probe may already have
 * been answered by the stranger. Linux only (procfs); elsewhere the probe has to be trusted.
 */
export function listensOn(pid: number, port: number): boolean {
  let inodes: Set<string>
  try {
    inodes = listeningInodes(port)
  } catch {
    return true
  }
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
        return target.startsWith('socket:[') && inodes.has(target.slice(8, -1))
      } catch {
        return false
      }
    })
  } catch {
    return false
  }
}

const TCP_LISTEN = '0A'

/**
 * The inodes of the sockets listening on port, IPv4 first (our servers bind 127.0.0.1), IPv6 only when IPv4 has
 * none. The kernel lists listening sockets before all others, so a table is read only as far as its last
 * listening line: reading on to the end walks the kernel's whole established-socket hash (262,144 buckets here,
 * 15–35 ms a table on a busy machine), which every server start paid twice.
 */
function listeningInodes(port: number): Set<string> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const fields of listeningLines(table)) if (fields[1]!.endsWith(`:${hexPort}`)) inodes.add(fields[9]!)
    if (inodes.size > 0) break
  }
  return inodes
}

/** The fields of a /proc/net/tcp* table's LISTEN lines, read page by page up to the first line in another state. */
function* listeningLines(table: string): Generator<string[]> {
  const fd = openSync(table, 'r')
  try {
    const page = Buffer.allocUnsafe(1 << 16)
    let rest = ''
    let header = true
    for (let n = readSync(fd, page); n > 0; n = readSync(fd, page)) {
      const lines = (rest + page.toString('latin1', 0, n)).split('\n')
      rest = lines.pop()!
      for (const line of lines) {
        if (header) {
          header = false
          continue
        }
        const fields = line.trim().split(/\s+/)
        if (fields.length <= 9 || fields[3] !== TCP_LISTEN) return
        yield fields
      }
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * Pauses process `pid` (SIGSTOP); the returned function resumes it (SIGCONT), once however often it is
 * called, and is also run at `teardown`.
 */
export function pauseProcess(pid: number, teardown: { teardown(fn: () => void): void }): () => void {
  process.kill(pid, 'SIGSTOP')
  let resumed = false
  const resume = () => {
    if (!resumed) process.kill(pid, 'SIGCONT')
    resumed = true
  }
  teardown.teardown(resume)
  return resume
}
