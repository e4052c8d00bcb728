import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

/** Every child the bench starts and every temp dir it makes; all go when the bench ends, however it ends. */
const children = new Set<ChildProcess>()
const dirs = new Set<string>()

export function track<T extends ChildProcess>(child: T): T {
  children.add(child)
  child.once('exit', () => children.delete(child))
  return child
}

export function trackDir(dir: string): string {
  dirs.add(dir)
  return dir
}

/** Synchronous, so it also works from an 'exit' handler: SIGKILL each live child by its PID, remove temp dirs. */
export function killAll(): void {
  for (const child of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  children.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}

/** Stops one child: `signal`, then SIGKILL if it has not exited within `graceMs`. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill(signal)
  })
}

/** Ctrl-C, SIGTERM, an uncaught error or a normal exit: nothing the bench started outlives it. */
export function killAllOnExit(): void {
  process.on('exit', killAll)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, stopping every server and load process`)
      killAll()
      process.exit(130)
    })
  }
}
