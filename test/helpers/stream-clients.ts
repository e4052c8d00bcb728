/**
 * Clients for etcd's streaming RPCs as users drive them: the `ws` package for WebSocket, node:http
 * with a request body kept open for HTTP streams. Both collect every message the server sends.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { WebSocket } from 'ws'

export type Transport = 'ws' | 'http'

export interface StreamClient {
  /** Messages received so far: WebSocket frames, or HTTP stream lines (without the newline). */
  readonly messages: string[]
  /** Sends raw text: one frame, or one write to the request body. */
  send(text: string): void
  /** Resolves once `count` messages have arrived in total, or after `timeoutMs` (then with fewer). */
  waitFor(count: number, timeoutMs?: number): Promise<string[]>
  /** HTTP: ends the request body. WebSocket: nothing (there is no half-close). */
  endRequest(): void
  close(): void
  /** WebSocket close code, or 'end' / 'reset' for HTTP; undefined while open. */
  readonly closed: Promise<string | number>
  /** HTTP status and headers (undefined until the status line arrives). */
  readonly response?: IncomingMessage
}

class Collector {
  readonly messages: string[] = []
  private waiters: { count: number; resolve: () => void }[] = []

  push(m: string): void {
    this.messages.push(m)
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.count) return true
      w.resolve()
      return false
    })
  }

  async waitFor(count: number, timeoutMs = 5_000): Promise<string[]> {
    if (this.messages.length < count) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) })
      })
    }
    return this.messages.slice(0)
  }
}

/** `headers` go with the upgrade request; `protocols` are offered in Sec-WebSocket-Protocol. */
export async function openWs(
  baseUrl: string,
  path: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<StreamClient> {
  const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + path, options.protocols ?? [], { headers: options.headers })
  const c = new Collector()
  socket.on('message', (data: Buffer, isBinary: boolean) => c.push((isBinary ? 'binary:' : '') + data.toString('utf8')))
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
  socket.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return {
    messages: c.messages,
    send: (text) => socket.send(text),
    waitFor: (n, t) => c.waitFor(n, t),
    endRequest: () => {},
    close: () => socket.terminate(),
    closed,
  }
}

export function openHttpStream(baseUrl: string, path: string, extraHeaders: Record<string, string> = {}): StreamClient {
  const u = new URL(baseUrl)
  const c = new Collector()
  let response: IncomingMessage | undefined
  let resolveClosed: (how: string) => void
  const closed = new Promise<string>((resolve) => (resolveClosed = resolve))
  // etcd (Go's HTTP/1.1 server) answers nothing while a chunked body is still open unless the client
  // asked for 100-continue, as curl -T does: without it, responses wait for the end of the body.
  const headers = { expect: '100-continue', ...extraHeaders }
  let continued = false
  const queued: string[] = []
  const req: ClientRequest = request({ host: u.hostname, port: u.port, method: 'POST', path, headers }, (res) => {
    response = res
    let buffered = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        c.push(buffered.slice(0, nl))
        buffered = buffered.slice(nl + 1)
      }
    })
    res.on('end', () => {
      if (buffered !== '') c.push(buffered)
      resolveClosed('end')
    })
    res.on('error', () => resolveClosed('reset'))
  })
  req.on('error', () => resolveClosed('reset'))
  req.on('continue', () => {
    continued = true
    for (const text of queued.splice(0)) req.write(text)
    if (ended) req.end()
  })
  let ended = false
  req.flushHeaders()
  return {
    messages: c.messages,
    send: (text) => void (continued ? req.write(text) : queued.push(text)),
    waitFor: (n, t) => c.waitFor(n, t),
    endRequest: () => {
      ended = true
      if (continued) req.end()
    },
    close: () => void req.destroy(),
    closed,
    get response() {
      return response
    },
  }
}

export function openStream(transport: Transport, baseUrl: string, path: string): Promise<StreamClient> {
  return transport === 'ws' ? openWs(baseUrl, path) : Promise.resolve(openHttpStream(baseUrl, path))
}

/** Unary POST, body as given; resolves with status and body text. */
export async function post(baseUrl: string, path: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(baseUrl + path, { method: 'POST', body })
  return { status: res.status, body: await res.text() }
}

export const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')

/** Replaces what differs between two servers by nature (cluster/member ids, raft term). */
export function normalize(message: string): string {
  return message
    .replace(/"cluster_id":"\d+"/g, '"cluster_id":"C"')
    .replace(/"member_id":"\d+"/g, '"member_id":"M"')
    .replace(/"raft_term":"\d+"/g, '"raft_term":"T"')
}
