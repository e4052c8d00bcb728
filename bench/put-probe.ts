/**
 * Another client's puts while a hostile load runs, made from a process of its own: the hostile clients
 * run in the bench's process, and opening 200 WebSockets or sending 1,000 frames there would otherwise
 * delay the clock of the puts beside them (p99 35–41 ms on this machine) and count against the server.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { track } from './processes.js'

const CHILD = fileURLToPath(new URL('./put-probe-child.js', import.meta.url))

export interface PutProbe {
  /** Each put's latency in ms, in the order they ended; grows while the probe runs. */
  readonly latencies: readonly number[]
  /** Stops after the put under way; resolves once the probe process has exited. */
  stop(): Promise<void>
}

/** Starts putting one key of `url` every 20 ms; resolves when the first put is about to go. */
export function startPutProbe(url: string): Promise<PutProbe> {
  return new Promise((resolve, reject) => {
    const child = track(fork(CHILD, [url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    const latencies: number[] = []
    let done = false
    const exited = new Promise<void>((resolveExit, rejectExit) => {
      child.on('exit', (code, signal) => {
        if (done) resolveExit()
        else rejectExit(new Error(`put probe on ${url} exited (${signal ?? code}) before it was stopped`))
      })
    })
    // before 'ready' the parent may not be waiting on `exited` yet
    exited.catch(reject)
    child.on('error', reject)
    child.on('message', (msg) => {
      if (typeof msg === 'number') latencies.push(msg)
      else if (msg === 'done') done = true
      else if (msg === 'ready')
        resolve({
          latencies,
          stop: () => {
            child.send('stop')
            return exited
          },
        })
    })
  })
}
