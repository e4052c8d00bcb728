/** How the gateway reports a request message that does not decode on a stream. */
import type { WebSocket } from 'ws'
import { Errors, type EtcdError } from '../../errors.js'
import { encodeError } from '../codec/envelope.js'

/**
 * grpc-gateway fails the stream's start with the decode error itself, not a gRPC status: code 2
 * (Unknown), HTTP 500, whatever the error was.
 */
export function startError(err: EtcdError): EtcdError {
  return Errors.streamRequestUndecodable(err)
}

/** How an error is told: a stream's start error (startError), or a unary call's own error (as it is). */
export type ErrorShape = (err: EtcdError) => EtcdError

/** A unary call's error goes to the client as it is. */
export const asCalled: ErrorShape = (err) => err

/** etcd over WebSocket: the error body as one frame, then the TCP connection closes without a close frame. */
export function failWebSocket(socket: WebSocket, err: EtcdError, shape: ErrorShape = startError): void {
  const e = shape(err)
  socket.send(encodeError(e.message, e.grpcCode), () => socket.terminate())
  // a client that is not reading would never get the frame, and would hold the connection and all that waits for it
  if (socket.bufferedAmount > 0) socket.terminate()
}

/** Ours, not etcd's (which stops reading the socket): the same error frame, and the socket goes on. */
export function reportWebSocketError(socket: WebSocket, err: EtcdError, shape: ErrorShape = startError): void {
  const e = shape(err)
  socket.send(encodeError(e.message, e.grpcCode))
}
