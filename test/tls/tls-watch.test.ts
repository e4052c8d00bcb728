import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import t from 'tap'
import { WebSocket } from 'ws'
import { certsCli } from '../pki/cli-runner.js'
import { startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodePost, sameSerial, servedSerial, type ClientTls } from '../helpers/tls-client.js'
import { mtlsArgs, pkiFor, PUT, serialOfFile, stopServe } from '../helpers/tls-serve-fixture.js'

t.test('an open WebSocket watch over TLS keeps streaming across a certificate reload', async (t) => {
  const pki = await pkiFor(t)
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  const tls: ClientTls = { ca: pki.ca, client: pki.client }
  const wssUrl = `${server.url.replace(/^https/, 'wss')}/v3/watch`
  const clientTls = { ca: readFileSync(pki.ca), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) }

  // without a client certificate the upgrade never happens
  const refused = new WebSocket(wssUrl, { ca: clientTls.ca })
  await t.rejects(new Promise((resolve, reject) => (refused.once('open', resolve), refused.once('error', reject))), 'WSS without a client certificate')

  const ws = new WebSocket(wssUrl, clientTls)
  t.teardown(() => ws.terminate())
  const frames: string[] = []
  ws.on('message', (data: Buffer) => frames.push(data.toString('utf8')))
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  const oldSerial = serialOfFile(pki.server.cert)
  t.ok(sameSerial((ws as unknown as { _socket: TLSSocket })._socket.getPeerCertificate().serialNumber, oldSerial))
  ws.send('{"create_request":{"key":"Zm9v"}}')
  const frame = async (n: number) => {
    t.ok(await eventually(async () => frames.length >= n, 5_000), `frame ${n} arrives`)
    return frames[n - 1]!
  }
  t.match(await frame(1), /"created":true/)
  t.equal((await nodePost(`${server.url}/v3/kv/put`, PUT, tls)).status, 200)
  t.match(await frame(2), /"events":\[\{"kv":\{"key":"Zm9v","create_revision":"2"/)

  t.equal((await certsCli('renew', 'etcd-server', '--dir', pki.dir)).code, 0)
  const newSerial = serialOfFile(pki.server.cert)
  t.ok(await eventually(async () => sameSerial(await servedSerial(server.url, tls), newSerial)), 'new handshakes get the renewed certificate')

  t.equal((await nodePost(`${server.url}/v3/kv/put`, '{"key":"Zm9v","value":"YmF6"}', tls)).status, 200)
  t.match(await frame(3), /"events":\[\{"kv":\{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"/)
  t.equal(ws.readyState, WebSocket.OPEN, 'the watch socket opened before the reload is still open')

  // a new WebSocket gets the new certificate and watches too
  const fresh = new WebSocket(wssUrl, clientTls)
  t.teardown(() => fresh.terminate())
  await new Promise((resolve, reject) => (fresh.once('open', resolve), fresh.once('error', reject)))
  t.ok(sameSerial((fresh as unknown as { _socket: TLSSocket })._socket.getPeerCertificate().serialNumber, newSerial))
  ws.close()
  fresh.close()
  await stopServe(server)
})
