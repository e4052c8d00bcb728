/**
 * A gRPC stream's response as etcd's gateway writes it over HTTP/1.1: chunked, one chunk per message,
 * and nothing at all (not even the status line) until the first message exists.
 */
import type { ServerResponse } from 'node:http'
import type { OutgoingHttpHeaders } from 'node:http'
import { type EtcdError, httpStatusOf } from '../../errors.js'
import { encodeError } from '../codec/error-body.js'
import { goJsonString } from '../go-text.js'
import type { MessageSink } from './message-sink.js'

/** grpc-gateway's reason phrases for the statuses a mid-stream error can carry. */
const statusText: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
}

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

  send(line: Buffer): void {
    if (!this.open) return
    if (!this.started) {
      this.started = true
      this.res.writeHead(200, {
        ...this.headers,
        'content-type': 'application/json',
        'grpc-metadata-content-type': 'application/grpc',
      })
    }
    this.res.write(line)
  }

  bufferedBytes(): number {
    return this.res.writableLength + (this.res.socket?.writableLength ?? 0)
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
    const status = httpStatusOf(err.grpcCode)
    this.res.end(
      `{"error":{"grpc_code":${err.grpcCode},"http_code":${status},"message":${goJsonString(err.message)},` +
        `"http_status":"${statusText[status] ?? 'Internal Server Error'}"}}`,
    )
    // The request body may still be open: the connection cannot serve another request, let it go.
    const socket = this.res.socket
    this.res.once('finish', () => socket?.destroySoon())
  }

  onClose(fn: () => void): void {
    this.res.on('close', fn)
  }
}
