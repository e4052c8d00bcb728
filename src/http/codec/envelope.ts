/**
 * What etcd's gateway (grpc-gateway v1) writes around messages: the error body of a failed call, the
 * `{"result":…}` line of each stream message and the in-stream error that ends a stream. Text is
 * escaped as Go's encoding/json does.
 */
import { type EtcdError, httpStatusOf } from '../../errors.js'
import { goJsonString } from './go-text.js'

/** A failed call's body: `error` and `message` carry the same text. */
export function encodeError(message: string, code: number): string {
  const m = goJsonString(message)
  return `{"error":${m},"message":${m},"code":${code}}`
}

/** A message of a gRPC stream: `{"result":…}` and a newline (WebSocket frames drop the newline). */
export function resultLine(json: string): Buffer {
  return Buffer.from('{"result":' + json + '}\n', 'utf8')
}

/**
 * A stream line (`{"result":…}\n`) whole, or in two parts written one after the other: a head of its
 * own and a tail that many lines share (a watch event's payload, the same for every watcher of it).
 * Buffers may be shared: never modify them.
 */
export type StreamLine = Buffer | SplitLine

export interface SplitLine {
  readonly head: Buffer
  readonly tail: Buffer
}

export function lineLength(line: StreamLine): number {
  return Buffer.isBuffer(line) ? line.length : line.head.length + line.tail.length
}

/** `s` as UTF-8 in memory of its own exact size, for a Buffer that may be held long (a pool slice would hold its whole pool). */
export function ownedUtf8(s: string): Buffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(s, 'utf8'))
  out.write(s, 'utf8')
  return out
}

/** Go's http.StatusText for the statuses a gRPC code maps to. */
const statusText: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout',
  409: 'Conflict', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 503: 'Service Unavailable', 504: 'Gateway Timeout',
}

/** The error that ends a stream already under way: grpc-gateway's own shape, with no newline after it. */
export function encodeStreamError(err: EtcdError): string {
  const status = httpStatusOf(err.grpcCode)
  return (
    `{"error":{"grpc_code":${err.grpcCode},"http_code":${status},"message":${goJsonString(err.message)},` +
    `"http_status":"${statusText[status] ?? 'Internal Server Error'}"}}`
  )
}
