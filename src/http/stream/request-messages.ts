/**
 * The request side of a streaming RPC: JSON values from an HTTP request body or from WebSocket frames,
 * handed one by one to the RPC. etcd's gateway decodes the first message before the gRPC stream
 * exists, so its failure is an error response; what a later failure does depends on the transport.
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import { EtcdError } from '../../errors.js'
import type { JsonValue } from '../codec/json.js'
import type { JsonMessageReader } from './json-message-reader.js'

export interface RequestMessages {
  /** Decodes and acts on one message; throws an EtcdError when it does not decode. */
  message(v: JsonValue): void
  /** The first message did not decode (or the body was unreadable before it). */
  firstError(err: EtcdError): void
}

export interface HttpRequestMessages extends RequestMessages {
  /** No more messages will come: the body ended, or a later message failed (etcd half-closes silently). */
  end(): void
}

export interface WsRequestMessages extends RequestMessages {
  /** A later message did not decode; reading goes on with the next frame. */
  laterError(err: EtcdError): void
}

/** Feeds values to `on` until the first failure; returns whether to go on. */
function feed(values: JsonValue[], error: EtcdError | undefined, state: { first: boolean }, on: RequestMessages, later: (err: EtcdError) => void): boolean {
  for (const v of values) {
    try {
      on.message(v)
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err
      error = err
      break
    }
    state.first = false
  }
  if (error === undefined) return true
  if (state.first) on.firstError(error)
  else later(error)
  return false
}

export function readHttpRequestMessages(req: IncomingMessage, reader: JsonMessageReader, on: HttpRequestMessages): void {
  const state = { first: true }
  let done = false
  const stop = () => {
    done = true
    req.removeListener('data', onData)
    req.removeListener('end', onEnd)
    // Keep draining so the connection stays usable; the bytes are not read any more.
    req.resume()
  }
  const onData = (chunk: Buffer) => {
    const r = reader.push(chunk)
    if (!feed(r.values, r.error, state, on, () => on.end())) stop()
  }
  const onEnd = () => {
    if (done) return
    const r = reader.end()
    if (feed(r.values, r.error, state, on, () => on.end())) on.end()
    stop()
  }
  req.on('data', onData)
  req.on('end', onEnd)
}

const newline = Buffer.from('\n')

/** Each frame, text or binary, is appended to one JSON stream followed by a newline (grpc-websocket-proxy). */
export function readWsRequestMessages(socket: WebSocket, reader: JsonMessageReader, on: WsRequestMessages): void {
  const state = { first: true }
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    const r = reader.push(Buffer.concat([chunk, newline]))
    // After a bad message, start afresh at the next frame (etcd stops reading the socket instead).
    if (!feed(r.values, r.error, state, on, (err) => on.laterError(err))) reader.discard()
  })
}
