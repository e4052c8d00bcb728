/** What etcdgw does on purpose better than etcd on watch streams, and its own limits. */
import t from 'tap'
import { WebSocket } from 'ws'
import { eventually } from '../helpers/eventually.js'
import { startOurs } from '../helpers/servers.js'
import { b64, openStream, openWs, post } from '../helpers/stream-clients.js'

const create = (key: string) => JSON.stringify({ create_request: { key: b64(key) } })

t.test('a malformed later WebSocket message gets an error frame and the socket keeps working', async (t) => {
  const ours = await startOurs(t)
  const ws = await openWs(ours.url, '/v3/watch')
  ws.send(create('x'))
  await ws.waitFor(1)
  ws.send('{"create_request":{"key":"%%%"}}')
  ws.send('{"create_request":}')
  ws.send(create('y'))
  const m = await ws.waitFor(4)
  t.equal(m[1], '{"error":"illegal base64 data at input byte 0","message":"illegal base64 data at input byte 0","code":2}')
  t.equal(m[2], `{"error":"invalid character '}' looking for beginning of value","message":"invalid character '}' looking for beginning of value","code":2}`)
  t.match(m[3], /"watch_id":"1","created":true/)
  await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64('y'), value: b64('v') }))
  t.match((await ws.waitFor(5))[4], /"watch_id":"1","events":\[\{"kv":\{"key":"eQ=="/)
  ws.close()
})

t.test('a bad first WebSocket message: error frame, then the connection drops (as etcd)', async (t) => {
  const ours = await startOurs(t)
  const ws = await openWs(ours.url, '/v3/watch')
  ws.send('nope')
  t.equal(await ws.closed, 1006)
  t.strictSame(ws.messages, ['{"error":"invalid character \'o\' in literal null (expecting \'u\')","message":"invalid character \'o\' in literal null (expecting \'u\')","code":2}'])
})

t.test('close frames are answered; GET without upgrade is 405', async (t) => {
  const ours = await startOurs(t)
  const socket = new WebSocket(ours.url.replace('http', 'ws') + '/v3/watch')
  await new Promise((r) => socket.once('open', r))
  socket.close(1000, 'bye')
  const [code] = await new Promise<[number]>((r) => socket.once('close', (c) => r([c])))
  t.equal(code, 1000)
  const res = await fetch(ours.url + '/v3/watch')
  t.equal(res.status, 405)
  t.equal(await res.text(), 'Method Not Allowed\n')
})

t.test('idle sockets are pinged; a peer that never answers is dropped, one that answers stays', async (t) => {
  // A live peer has one interval to answer its ping: long enough for this process to read it under load.
  const intervalMs = 250
  const ours = await startOurs(t, { app: { wsPingIntervalMs: intervalMs } })
  const url = ours.url.replace('http', 'ws') + '/v3/watch'
  const dead = new WebSocket(url, { autoPong: false })
  const alive = new WebSocket(url)
  let pings = 0
  alive.on('ping', () => pings++)
  await Promise.all([dead, alive].map((s) => new Promise((r) => s.once('open', r))))
  const started = Date.now()
  const code = await new Promise<number>((r) => dead.once('close', (c) => r(c)))
  t.equal(code, 1006, 'terminated without close frame')
  t.ok(Date.now() - started < 20 * intervalMs, 'within a few intervals (the default is 30 s)')
  // One timer pings every socket: the live one can be pinged in the tick that drops the dead one, and
  // this client may read the drop first.
  await eventually(() => pings >= 1, 5_000)
  t.ok(pings >= 1, 'the live socket was pinged')
  t.equal(alive.readyState, WebSocket.OPEN)
  alive.terminate()
})

t.test('a client that does not read loses its watches with a reason naming the limit; the socket goes on', async (t) => {
  const limit = 256 * 1024
  const ours = await startOurs(t, { app: { watchSendBufferBytes: limit } })
  const socket = new WebSocket(ours.url.replace('http', 'ws') + '/v3/watch')
  const frames: string[] = []
  socket.on('message', (d: Buffer) => frames.push(d.toString()))
  await new Promise((r) => socket.once('open', r))
  socket.send(create('big'))
  socket.send(create('big'))
  while (frames.length < 2) await new Promise((r) => setTimeout(r, 10))
  socket.pause()
  const value = b64('x'.repeat(512 * 1024))
  for (let i = 0; i < 40; i++) await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64('big'), value }))
  socket.resume()
  // Up to 10 MB of events were waiting for this client: it reads them at its own pace. Each watch's
  // events come before its cancel, so once both cancels are in, every event sent is too.
  const canceled = () => frames.filter((f) => f.includes('"canceled":true'))
  await eventually(() => canceled().length >= 2, 20_000)
  t.equal(canceled().length, 2, 'both watches canceled')
  for (const f of canceled()) t.match(f, /"cancel_reason":"etcdgw: watch canceled: more than 262144 bytes are waiting to be sent to this client \(--watch-send-buffer-bytes\)/)
  const events = frames.filter((f) => f.includes('"events"')).length
  t.ok(events < 80, `not every event was buffered (${events} of 80)`)
  const before = frames.length
  const fresh = () => frames.slice(before).join('\n')
  // The create waits while the server still has more than the limit unsent: a put made before the watch
  // exists is not in it.
  socket.send(create('small'))
  await eventually(() => fresh().includes('"created":true'), 20_000)
  await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64('small'), value: b64('v') }))
  await eventually(() => /"created":true[\s\S]*"events"/.test(fresh()), 10_000)
  t.match(fresh(), /"created":true[\s\S]*"events"/, 'new watches work')
  socket.terminate()
})

t.test('server close ends HTTP watch streams with etcd in-band shutdown error', async (t) => {
  const ours = await startOurs(t)
  const s = await openStream('http', ours.url, '/v3/watch')
  s.send(create('z'))
  await s.waitFor(1)
  await ours.stop()
  t.equal(await s.closed, 'end')
  t.equal(s.messages[1], '{"error":{"grpc_code":14,"http_code":503,"message":"transport is closing","http_status":"Service Unavailable"}}')
})
