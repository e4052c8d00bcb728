/**
 * A stream client that sends without reading: every byte queued for it counts against
 * --watch-send-buffer-bytes, whatever the message; past it the server stops reading from the client
 * (and answers everything once it reads again), and the heartbeat still finds a client that never reads.
 */
import t from 'tap'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import { startOurs } from '../helpers/servers.js'

const limit = 256 * 1024
/** What may sit above the limit: the answers to one message, and a socket's own write granularity. */
const slack = 64 * 1024

async function serverWithSockets(t: Parameters<typeof startOurs>[0], wsPingIntervalMs = 60_000) {
  const ours = await startOurs(t, { app: { watchSendBufferBytes: limit, wsPingIntervalMs } })
  const sockets = new Set<Socket>()
  ours.app().server.on('connection', (s: Socket) => sockets.add(s))
  const queued = () => Math.max(0, ...[...sockets].map((s) => (s.destroyed ? 0 : s.writableLength)))
  return { ours, sockets, queued }
}

async function openPaused(url: string): Promise<{ socket: WebSocket; frames: () => number }> {
  const socket = new WebSocket(url.replace('http', 'ws'))
  let frames = 0
  socket.on('message', () => frames++)
  socket.on('error', () => {})
  await new Promise((r) => socket.once('open', r))
  socket.pause()
  return { socket, frames: () => frames }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

for (const { path, message } of [
  { path: '/v3/watch', message: () => '{"progress_request":{}}' },
  { path: '/v3/lease/keepalive', message: () => '{"ID":"77"}' },
]) {
  t.test(`${path}: a client that sends without reading has at most the limit queued, and loses nothing`, async (t) => {
    const { ours, queued } = await serverWithSockets(t)
    await ours.backend().lease.grant({ ttl: 600, id: 77n })
    const { socket, frames } = await openPaused(ours.url + path)
    const perFrame = 5_000
    const count = 20
    for (let i = 0; i < count; i++) socket.send(message().repeat(perFrame))
    let most = 0
    for (let i = 0; i < 25; i++) {
      await sleep(40)
      most = Math.max(most, queued())
    }
    t.ok(most <= limit + slack, `queued for the client: at most ${most} bytes`)
    socket.resume()
    await until('every answer', () => frames() >= count * perFrame, 20_000)
    t.equal(frames(), count * perFrame, 'every message answered once the client reads')
    socket.terminate()
  })
}

t.test('the heartbeat drops a client that keeps sending but never reads', async (t) => {
  const { ours, sockets } = await serverWithSockets(t, 100)
  const { socket } = await openPaused(ours.url + '/v3/watch')
  const flood = setInterval(() => socket.send('{"progress_request":{}}'.repeat(2_000)), 20)
  t.teardown(() => {
    clearInterval(flood)
    socket.terminate()
  })
  await until('the server to drop the socket', () => [...sockets].every((s) => s.destroyed), 5_000)
  t.pass('dropped')
})
