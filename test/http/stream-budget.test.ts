/**
 * The server's budget for what all streams have waiting: past it the streams with most waiting lose
 * their watches first, with a reason, while a client that keeps up keeps its watch.
 */
import t from 'tap'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import { startOurs } from '../helpers/servers.js'
import { b64, post } from '../helpers/stream-clients.js'

const budget = 4 * 1024 * 1024
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function watcher(url: string, key: string) {
  const socket = new WebSocket(url.replace('http', 'ws') + '/v3/watch')
  const frames: string[] = []
  socket.on('message', (d: Buffer) => frames.push(d.toString()))
  socket.on('error', () => {})
  await new Promise((r) => socket.once('open', r))
  socket.send(JSON.stringify({ create_request: { key: b64(key) } }))
  while (frames.length < 1) await sleep(10)
  return { socket, frames }
}

t.test('past the budget the slowest streams lose their watches, with a reason; one that reads keeps its own', async (t) => {
  // each stream alone may queue far more than the budget: only the budget can cut them off
  const ours = await startOurs(t, { app: { watchSendBufferBytes: 256 * 1024 * 1024, streamSendBudgetBytes: budget } })
  const sockets = new Set<Socket>()
  ours.app().server.on('connection', (s: Socket) => sockets.add(s))
  const queued = () => [...sockets].reduce((sum, s) => sum + (s.destroyed ? 0 : s.writableLength), 0)
  const slow = await watcher(ours.url, 'k')
  const slower = await watcher(ours.url, 'k')
  const reader = await watcher(ours.url, 'k')
  t.teardown(() => [slow, slower, reader].forEach((w) => w.socket.terminate()))
  slower.socket.pause()
  const value = b64('x'.repeat(100 * 1024))
  const puts = 120
  let most = 0
  for (let i = 0; i < puts; i++) {
    if (i === 20) slow.socket.pause()
    await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64('k'), value }))
    most = Math.max(most, queued())
  }
  // the budget's cut plus what the kernel already took and one message per stream
  t.ok(most < budget + 1024 * 1024, `at most ${most} bytes queued on the server`)
  slow.socket.resume()
  slower.socket.resume()
  const canceled = (w: { frames: string[] }) => w.frames.some((f) => f.includes('"canceled":true'))
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (reader.frames.length >= 1 + puts && canceled(slow) && canceled(slower)) break
    await sleep(20)
  }
  const reason = /"canceled":true,"cancel_reason":"etcdgw: more than 4194304 bytes are waiting for the slowest clients of this server \(--stream-send-budget-bytes\), this one among them; read faster or watch less"/
  t.match(slower.frames.at(-1), reason, 'the slowest stream was canceled with the reason')
  t.match(slow.frames.at(-1), reason, 'and then the next slowest')
  t.ok(slower.frames.length < slow.frames.length, 'the slowest first')
  t.equal(reader.frames.length, 1 + puts, 'the reading client saw every event')
  t.notOk(reader.frames.some((f) => f.includes('"canceled":true')), 'and kept its watch')
})

t.test('past the budget a keepalive stream that does not read is ended', async (t) => {
  const ours = await startOurs(t, { app: { watchSendBufferBytes: 256 * 1024 * 1024, streamSendBudgetBytes: budget } })
  const sockets = new Set<Socket>()
  ours.app().server.on('connection', (s: Socket) => sockets.add(s))
  await ours.backend().lease.grant({ ttl: 600, id: 77n })
  const socket = new WebSocket(ours.url.replace('http', 'ws') + '/v3/lease/keepalive')
  socket.on('error', () => {})
  await new Promise((r) => socket.once('open', r))
  socket.pause()
  const flood = setInterval(() => socket.send('{"ID":"77"}'.repeat(5_000)), 10)
  t.teardown(() => {
    clearInterval(flood)
    socket.terminate()
  })
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (sockets.size > 0 && [...sockets].every((s) => s.destroyed)) break
    await sleep(20)
  }
  t.ok(sockets.size > 0 && [...sockets].every((s) => s.destroyed), 'the server ended the stream and its connection')
})
