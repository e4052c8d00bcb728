import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { OpName } from './ops.js'
import { track } from './processes.js'

/** One load cell: `connections` keep-alive clients sending `op` to `url` for `durationSec`. */
export interface LoadSpec {
  url: string
  op: OpName
  connections: number
  durationSec: number
}

export interface LoadResult {
  /** 2xx responses. */
  ok: number
  /** 2xx responses per second over the cell. */
  rps: number
  /** Per-response latency percentiles in ms, with µs resolution (hrtime in the client). */
  p50Ms: number
  p99Ms: number
  /** Socket errors, timeouts, non-2xx responses: any makes the cell invalid. */
  errors: number
  statusCodes: Record<string, number>
  /** CPU the load generator used, in cores (1 = one core busy for the whole cell). */
  clientCores: number
}

const CHILD = fileURLToPath(new URL('./load-child.js', import.meta.url))
/** Beyond the cell's duration: connection set-up, a slow last response, the child's exit. */
const GRACE_MS = 30_000

/**
 * Runs one cell in a child process of its own, so the client never shares an event loop (or a core's
 * time slice bookkeeping) with the bench driver.
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = track(fork(CHILD, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    let result: LoadResult | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), spec.durationSec * 1000 + GRACE_MS)
    child.on('message', (msg) => {
      result = msg as LoadResult
    })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (result) resolve(result)
      else reject(new Error(`load child for ${spec.op} on ${spec.url} exited (${signal ?? code}) without a result`))
    })
  })
}
