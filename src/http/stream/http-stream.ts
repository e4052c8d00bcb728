/**
 * A gRPC stream's response as etcd's gateway writes it over HTTP/1.1: chunked, one chunk per message,
 * and nothing at all (not even the status line) until the first message exists.
 */
import type { ServerResponse } from 'node:http'
import type { OutgoingHttpHeaders } from 'node:http'
import { type EtcdError, httpStatusOf } from '../../errors.js'
import { encodeError, encodeStreamError, type StreamLine } from '../codec/envelope.js'
import type { MessageSink } from './message-sink.js'

export class HttpStreamResponse implements MessageSink {
  private started = false

  /** `headers` are written with the status line (CORS). */
  constructor(
    private readonly res: ServerResponse,
    private readonly headers: OutgoingHttpHeaders,
  ) {}

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed
  }

  /** One chunk per message, as etcd's gateway writes: a split line is joined. */
  send(line: StreamLine): void {
    if (!this.open) return
    if (!this.started) {
      this.started = true
      this.res.writeHead(200, {
        ...this.headers,
        'content-type': 'application/json',
        'grpc-metadata-content-type': 'application/grpc',
      })
    }
    this.res.write(Buffer.isBuffer(line) ? line : Buffer.concat([line.head, line.tail]))
  }

  bufferedBytes(): number {
    return this.res.writableLength + (this.res.socket?.writableLength ?? 0)
  }

  onDrain(fn: () => void): void {
    if (this.res.writableNeedDrain) this.res.once('drain', fn)
    else setImmediate(fn)
  }

  /** The request could not start the stream (its first message does not decode): a plain error response. */
  fail(err: EtcdError): void {
    if (!this.open || this.started) return this.end()
    const body = encodeError(err.message, err.grpcCode)
    this.res.writeHead(httpStatusOf(err.grpcCode), {
      ...this.headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    this.res.end(body)
  }

  /** The stream is over; a stream that produced no message is still a 200 (etcd: keepalive with an empty body). */
  end(): void {
    if (!this.open) return
    if (!this.started) {
      this.started = true
      this.res.writeHead(200, { ...this.headers, 'content-type': 'application/json' })
    }
    this.res.end()
  }

  /** A failure after the stream started: grpc-gateway's in-band error, the last chunk, without newline. */
  abort(err: EtcdError): void {
    if (!this.open) return
    if (!this.started) return this.fail(err)
    this.res.end(encodeStreamError(err))
    // The request body may still be open: the connection cannot serve another request, let it go.
    const socket = this.res.socket
    this.res.once('finish', () => socket?.destroySoon())
  }

  onClose(fn: () => void): void {
    this.res.on('close', fn)
  }
}
