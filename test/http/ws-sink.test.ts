/**
 * WsSink writes its own pre-built frames on the socket `ws` also writes to: a real `ws` client and a
 * browser's WebSocket (Node's built-in one, undici's WHATWG implementation) must read them, in order
 * with the frames `ws` itself sends, at every length encoding of the frame header.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import t, { type Test } from 'tap'
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws'
import type { SplitLine } from '../../src/http/codec/envelope.js'
import { WsSink } from '../../src/http/stream/ws-sink.js'

/** Payload lengths on both sides of each header length encoding (7-bit, 16-bit, 64-bit). */
const LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 70000]

/** Sink lines (shared by every socket, as watch events are) and, after each, a message sent by `ws`. */
const lines = LENGTHS.map((n, i) => Buffer.from(String.fromCharCode(97 + i).repeat(n) + '\n'))
/** The same texts split as large watch events are: a head of the line's own and a shared tail. */
const splitLines: SplitLine[] = lines.map((line) => {
  const cut = Math.min(3, line.length - 1)
  return { head: Buffer.from(line.subarray(0, cut)), tail: line.subarray(cut) }
})
const expected = [...LENGTHS, ...LENGTHS].flatMap((n, i) => [String.fromCharCode(97 + (i % LENGTHS.length)).repeat(n), `ws ${i}`])

interface Fixture {
  url: string
  /** Resolves with the server side of the next connection. */
  nextConnection(): Promise<{ ws: WebSocket; raw: Socket }>
}

async function serve(t: Test, options: ServerOptions): Promise<Fixture> {
  const wss = new WebSocketServer({ noServer: true, ...options })
  const server: Server = createServer()
  const waiting: ((c: { ws: WebSocket; raw: Socket }) => void)[] = []
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => waiting.shift()?.({ ws, raw: socket as Socket })),
  )
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const c of wss.clients) c.terminate()
    server.close()
  })
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
  }
}

/** Sends every line through the sink, each followed by a ping and a message sent by `ws` itself. */
function sendAll(ws: WebSocket, raw: Socket): void {
  const sink = new WsSink(ws, raw)
  ;[...lines, ...splitLines].forEach((line, i) => {
    sink.send(line)
    ws.ping()
    ws.send(`ws ${i}`)
  })
}

function wsClient(url: string, perMessageDeflate: boolean): Promise<string[]> {
  const client = new WebSocket(url, { perMessageDeflate })
  const got: string[] = []
  return new Promise((resolve, reject) => {
    client.on('error', reject)
    client.on('message', (data: Buffer, isBinary) => {
      got.push((isBinary ? 'binary:' : '') + data.toString('utf8'))
      if (got.length === expected.length) {
        client.close()
        resolve(got)
      }
    })
  })
}

/** A browser-like client: Node's WHATWG WebSocket, in a child process (Node 20 has it behind a flag). */
function browserClient(url: string): Promise<string[]> {
  const script = `
    const got = []
    const ws = new WebSocket(${JSON.stringify(url)})
    ws.onmessage = (e) => {
      got.push(typeof e.data === 'string' ? e.data : 'binary')
      if (got.length === ${expected.length}) { process.stdout.write(JSON.stringify(got)); ws.close() }
    }
    ws.onerror = (e) => { console.error('error', e.message); process.exit(1) }`
  const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as string[]) : reject(new Error(`browser client exited ${code}`))))
  })
}

t.test('a ws client and a browser read the frames, in order with ws\'s own (one line shared by both)', async (t) => {
  const fx = await serve(t, { perMessageDeflate: false })
  const first = fx.nextConnection()
  const viaWs = wsClient(fx.url, false)
  const second = fx.nextConnection()
  const { ws, raw } = await first
  const viaBrowser = browserClient(fx.url)
  sendAll(ws, raw)
  const other = await second
  sendAll(other.ws, other.raw)
  t.strictSame(await viaWs, expected)
  t.strictSame(await viaBrowser, expected)
})

t.test('with permessage-deflate negotiated the sink sends through ws, compressed', async (t) => {
  const fx = await serve(t, { perMessageDeflate: { threshold: 0 } })
  const connected = fx.nextConnection()
  const got = wsClient(fx.url, true)
  const { ws, raw } = await connected
  t.equal(ws.extensions, 'permessage-deflate')
  const before = raw.bytesWritten
  sendAll(ws, raw)
  t.strictSame(await got, expected)
  const rawBytes = raw.bytesWritten - before
  const plain = 2 * lines.reduce((s, l) => s + l.length, 0)
  t.ok(rawBytes < plain / 10, `compressed on the wire (${rawBytes} bytes for ${plain} of text)`)
})

t.test('a socket that is closing gets nothing more from the sink', async (t) => {
  const fx = await serve(t, { perMessageDeflate: false })
  const connected = fx.nextConnection()
  const client = new WebSocket(fx.url)
  const got: string[] = []
  client.on('message', (d: Buffer) => got.push(d.toString()))
  const { ws, raw } = await connected
  const sink = new WsSink(ws, raw)
  sink.send(lines[1])
  ws.close(1000)
  sink.send(lines[2])
  const [code] = (await once(client, 'close')) as [number]
  t.equal(code, 1000, 'a clean close: no frame after the close frame')
  t.strictSame(got, [expected[2]])
})

t.test('sockets that do not read hold one shared tail, not a copy each', async (t) => {
  const fx = await serve(t, { perMessageDeflate: false })
  const queued: Buffer[][] = []
  for (let i = 0; i < 2; i++) {
    const connected = fx.nextConnection()
    const client = new WebSocket(fx.url)
    client.on('error', () => {})
    t.teardown(() => client.terminate())
    const { ws, raw } = await connected
    // nothing leaves the socket: what the sink wrote stays in its queue, as for a client that stopped reading
    raw.cork()
    const line = splitLines.at(-1)!
    new WsSink(ws, raw).send(line)
    // Writable's queue (writableBuffer: { chunk }s waiting while corked)
    queued.push((raw as unknown as { writableBuffer: { chunk: Buffer }[] }).writableBuffer.map((w) => w.chunk))
    t.equal(raw.writableLength, 10 + line.head.length + line.tail.length - 1, 'the frame, header included, without the newline')
  }
  const payloads = queued.map((chunks) => chunks.find((c) => c.length > 1000)!)
  const tail = splitLines.at(-1)!.tail
  for (const p of payloads) t.ok(p.buffer === tail.buffer && p.byteOffset === tail.byteOffset, 'the tail itself')
  t.ok(queued.every((chunks) => chunks.every((c) => c.length < 100 || c === payloads[0])), 'besides it, only small heads')
})
