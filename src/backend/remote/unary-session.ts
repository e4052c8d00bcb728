/**
 * etcd's unary RPCs over an HTTP/2 session of node's own: a gRPC unary call is one request stream (headers,
 * one length-prefixed message) answered by one message and trailers carrying grpc-status. grpc-js's call
 * stack (resolving, load-balancing and retrying calls, filters, channelz) took about twice the CPU of the
 * call itself: on one etcd member, 10 puts at a time, ~110 µs of CPU per put through grpc-js against ~60 µs
 * this way, most of what the gateway spends on a write. Streams (watches, keepalives, snapshots) stay on grpc-js.
 *
 * Failures read as grpc-js reports them (see errors.ts): a call that never got a connection fails with
 * "No connection established" (a write may then be sent again); one cut off later, without a status, does not.
 */
import http2 from 'node:http2'
import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import type { ClientTls } from './credentials.js'

/** As grpc-js's channel options in member.ts: ping every 10 s while calls are open, give up after 5 s of silence. */
const KEEPALIVE_MS = 10_000
const KEEPALIVE_TIMEOUT_MS = 5_000
/** The call's stream was never sent (its session closed first) or the server refused it (HTTP/2's REFUSED_STREAM). */
export const STREAM_REFUSED = 'Stream closed or refused before it was processed'
/** A gRPC message's prefix: a compression flag and the length. */
const PREFIX_BYTES = 5

export class UnarySession {
  private session: http2.ClientHttp2Session | undefined
  /** sessions that connected: a call failing on one that never did never left this process */
  private readonly connectedSessions = new WeakSet<http2.ClientHttp2Session>()
  private calls = 0
  private keepalive: NodeJS.Timeout | undefined

  constructor(
    /** `http://host:port` or `https://host:port` */
    private readonly origin: string,
    private readonly tls: ClientTls | undefined,
  ) {}

  /** One call: `message` (serialized) to `path`, its answer's message, or a ServiceError. */
  call(path: string, message: Buffer, deadline: number, metadata: Metadata): Promise<Buffer> {
    const session = this.open()
    const timeoutMs = Math.max(1, Math.ceil(deadline - Date.now()))
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream
      try {
        stream = session.request({
          ...metadata.toHttp2Headers(),
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': grpcTimeout(timeoutMs),
        })
      } catch {
        // the session closed or ran out of stream IDs meanwhile: nothing was sent
        return reject(serviceError(status.UNAVAILABLE, STREAM_REFUSED))
      }
      this.calls++
      this.keepAlive()
      let httpStatus = 0
      let grpcStatus: string | undefined
      let grpcMessage = ''
      let answer: Buffer | undefined
      const chunks: Buffer[] = []
      let settled = false
      const settle = (err: ServiceError | undefined) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.calls--
        if (err) reject(err)
        else resolve(answer!)
      }
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL)
        settle(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'))
      }, timeoutMs)
      const headers = (h: http2.IncomingHttpHeaders) => {
        if (h[':status'] !== undefined) httpStatus = Number(h[':status'])
        if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status'])
        if (h['grpc-message'] !== undefined) grpcMessage = decodeMessage(String(h['grpc-message']))
      }
      stream.on('response', headers)
      stream.on('trailers', headers)
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', () => undefined)
      stream.on('close', () => {
        if (grpcStatus === undefined) return settle(this.endedWithoutStatus(session, stream, httpStatus))
        const code = Number(grpcStatus)
        if (code !== status.OK) return settle(serviceError(code, grpcMessage))
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        // one uncompressed message, whole: a shorter body would decode as a different, partial answer
        if (body.length < PREFIX_BYTES || body[0] !== 0 || body.length !== PREFIX_BYTES + body.readUInt32BE(1)) {
          return settle(serviceError(status.INTERNAL, 'Malformed response message'))
        }
        answer = body.subarray(PREFIX_BYTES)
        settle(undefined)
      })
      const framed = Buffer.allocUnsafe(PREFIX_BYTES + message.length)
      framed[0] = 0
      framed.writeUInt32BE(message.length, 1)
      message.copy(framed, PREFIX_BYTES)
      stream.end(framed)
    })
  }

  /**
   * Lets the calls running finish, then closes; a later call opens a new session. Calls still waiting
   * for the connection end unsent (see errors.ts: they may be sent again).
   */
  close(): void {
    this.session?.close()
    this.session = undefined
    clearInterval(this.keepalive)
    this.keepalive = undefined
  }

  private open(): http2.ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session
    const tls = this.tls
    const session = http2.connect(this.origin, tls ? { ca: tls.ca ?? undefined, cert: tls.cert ?? undefined, key: tls.key ?? undefined } : {})
    this.session = session
    const gone = () => {
      if (this.session === session) this.session = undefined
    }
    session.on('connect', () => this.connectedSessions.add(session))
    session.on('error', gone)
    session.on('goaway', gone)
    session.on('close', gone)
    session.unref()
    return session
  }

  /** A call that ended without a gRPC status, described with grpc-js's words. */
  private endedWithoutStatus(session: http2.ClientHttp2Session, stream: http2.ClientHttp2Stream, httpStatus: number): ServiceError {
    if (httpStatus !== 0 && httpStatus !== 200) return serviceError(httpStatusCode(httpStatus), `Received HTTP status code ${httpStatus}`)
    if (!this.connectedSessions.has(session)) {
      return serviceError(status.UNAVAILABLE, `No connection established. Last error: could not connect to ${this.origin}`)
    }
    if (stream.id === undefined || stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) return serviceError(status.UNAVAILABLE, STREAM_REFUSED)
    if (stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) {
      return serviceError(status.UNAVAILABLE, `Received RST_STREAM with code ${stream.rstCode}`)
    }
    return serviceError(status.UNAVAILABLE, 'Connection dropped')
  }

  /** Pings the session every KEEPALIVE_MS while calls are open; one unanswered for KEEPALIVE_TIMEOUT_MS ends it. */
  private keepAlive(): void {
    if (this.keepalive) return
    this.keepalive = setInterval(() => {
      const session = this.session
      if (this.calls === 0 || !session) {
        clearInterval(this.keepalive)
        this.keepalive = undefined
        return
      }
      const silence = setTimeout(() => session.destroy(), KEEPALIVE_TIMEOUT_MS)
      silence.unref()
      session.ping(() => clearTimeout(silence))
    }, KEEPALIVE_MS)
    this.keepalive.unref()
  }
}

function serviceError(code: number, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code] ?? ''}: ${details}`), { code, details, metadata: new Metadata() })
}

/** gRPC's timeout header: at most 8 digits, in the finest unit that fits. */
function grpcTimeout(ms: number): string {
  for (const [unit, perUnit] of [['m', 1], ['S', 1_000], ['M', 60_000], ['H', 3_600_000]] as const) {
    const value = Math.ceil(ms / perUnit)
    if (value < 100_000_000) return `${value}${unit}`
  }
  return '99999999H'
}

/** grpc-message is percent-encoded. */
function decodeMessage(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** gRPC's mapping of an HTTP status to a code, for answers that are not gRPC's. */
function httpStatusCode(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return status.INTERNAL
    case 401:
      return status.UNAUTHENTICATED
    case 403:
      return status.PERMISSION_DENIED
    case 404:
      return status.UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return status.UNAVAILABLE
    default:
      return status.UNKNOWN
  }
}
