/** webSocketRoute: an open socket keeps nothing of its upgrade request, and socket errors still end it. */
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { credentialsReader } from '../../src/http/credentials.js'
import { webSocketRoute } from '../../src/http/stream/ws-route.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** A server whose one WebSocket route echoes every message; `upgrades` sees each upgrade request. */
async function echoServer(t: Test): Promise<{ url: string; upgrades: IncomingMessage[] }> {
  const app = Fastify()
  app.register(websocket, { options: { perMessageDeflate: false, maxPayload: 1024 } })
  app.register(async (app) =>
    webSocketRoute(app, '/echo', credentialsReader(false), (socket) => socket.on('message', (data: Buffer) => socket.send(data.toString()))),
  )
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const upgrades: IncomingMessage[] = []
  app.server.prependListener('upgrade', (req: IncomingMessage) => upgrades.push(req))
  return { url: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/echo`, upgrades }
}

async function open(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url)
  await once(socket, 'open')
  return socket
}

async function echo(socket: WebSocket, text: string): Promise<string> {
  socket.send(text)
  const [data] = (await once(socket, 'message')) as [Buffer]
  return data.toString()
}

t.test('the upgrade requests of open sockets are garbage', async (t) => {
  const server = await echoServer(t)
  const sockets = [await open(server.url), await open(server.url), await open(server.url)]
  const requests = server.upgrades.splice(0).map((r) => new WeakRef(r))
  t.equal(requests.length, 3)
  // no deref() before the collections: it would keep its target alive until the end of the job
  for (let i = 0; i < 5; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 20))
  }
  t.equal(requests.filter((r) => r.deref()).length, 0, 'no upgrade request is still reachable')
  for (const s of sockets) t.equal(await echo(s, 'still open'), 'still open')
  for (const s of sockets) s.terminate()
})

t.test('an error on an open socket ends that socket only', async (t) => {
  const server = await echoServer(t)
  const bad = await open(server.url)
  const good = await open(server.url)
  bad.send('x'.repeat(2048)) // over maxPayload: ws emits 'error' on the server's socket
  const [code] = (await once(bad, 'close')) as [number]
  t.equal(code, 1009, 'closed as too big')
  t.equal(await echo(good, 'fine'), 'fine')
  const fresh = await open(server.url)
  t.equal(await echo(fresh, 'new'), 'new')
  good.terminate()
  fresh.terminate()
})
