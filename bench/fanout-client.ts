/**
 * A child process holding many watch WebSockets, one watch each, all on one key. It records, per
 * socket, the monotonic time (system-wide CLOCK_MONOTONIC, comparable with the parent's) each event
 * message arrived, and turns them into delivery latencies once the parent says when each put was sent
 * and acknowledged.
 */
import { hrtime } from 'node:process'
import { WebSocket } from 'ws'
import type { FanoutClientRequest, FanoutClientResult, PutTiming } from './fanout-protocol.js'

/** Sockets being opened at once: the server's listen backlog (511) must not overflow. */
const OPEN_CONCURRENCY = 100
const OPEN_TIMEOUT_MS = 30_000

const nowNs = (): number => Number(hrtime.bigint())

interface Watcher {
  socket: WebSocket
  /** [revision, arrival ns] pairs of event messages */
  arrivals: number[]
}

const watchers: Watcher[] = []
let arrivalsTotal = 0
let onArrival: (() => void) | undefined

function openOne(url: string, key: string): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws') + '/v3/watch', { perMessageDeflate: false })
    const w: Watcher = { socket, arrivals: [] }
    const timer = setTimeout(() => reject(new Error('no created response')), OPEN_TIMEOUT_MS)
    socket.on('error', (err) => reject(err))
    socket.on('open', () => socket.send(JSON.stringify({ create_request: { key } })))
    socket.on('message', (data: Buffer) => {
      const at = nowNs()
      // parsing every frame is part of a real watcher's cost, as in the reference measurement
      const result = (JSON.parse(data.toString('utf8')) as { result?: WatchResult }).result
      if (result?.created) {
        clearTimeout(timer)
        resolve(w)
      } else if (result?.events) {
        w.arrivals.push(Number(result.header.revision), at)
        arrivalsTotal++
        onArrival?.()
      }
    })
  })
}

interface WatchResult {
  header: { revision: string }
  created?: boolean
  events?: unknown[]
}

async function open(url: string, key: string, count: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++
      watchers.push(await openOne(url, key))
    }
  }
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, worker))
}

/** Waits until every watcher saw every put, or `waitMs`; then latencies in ms per (watcher, put) delivered. */
async function collect(puts: PutTiming[], waitMs: number): Promise<FanoutClientResult> {
  const expected = watchers.length * puts.length
  if (arrivalsTotal < expected) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs)
      onArrival = () => {
        if (arrivalsTotal >= expected) {
          clearTimeout(timer)
          resolve()
        }
      }
    })
  }
  const byRev = new Map(puts.map((p) => [p.revision, p]))
  const fromAckMs: number[] = []
  const fromSendMs: number[] = []
  let delivered = 0
  for (const w of watchers) {
    const seen = new Set<number>()
    for (let i = 0; i < w.arrivals.length; i += 2) {
      const put = byRev.get(w.arrivals[i])
      if (!put || seen.has(put.revision)) continue
      seen.add(put.revision)
      delivered++
      fromAckMs.push((w.arrivals[i + 1] - put.ackNs) / 1e6)
      fromSendMs.push((w.arrivals[i + 1] - put.sendNs) / 1e6)
    }
  }
  return { fromAckMs, fromSendMs, missing: expected - delivered }
}

process.on('message', (msg: FanoutClientRequest) => {
  const reply = (m: unknown): void => void process.send!(m)
  if (msg.type === 'open') {
    const started = nowNs()
    open(msg.url, msg.key, msg.count).then(
      () => reply({ type: 'ready', openMs: (nowNs() - started) / 1e6 }),
      (err: unknown) => reply({ type: 'failed', error: String(err) }),
    )
  } else {
    void collect(msg.puts, msg.waitMs).then((result) => {
      for (const w of watchers) w.socket.terminate()
      // a large result is still being written when send() returns: disconnect once it is out
      process.send!({ type: 'result', ...result }, undefined, {}, () => process.disconnect())
    })
  }
})
