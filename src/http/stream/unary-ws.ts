/**
 * Unary RPCs over WebSocket, on the path of each (etcd's gateway, through grpc-websocket-proxy, upgrades
 * every /v3/ path). The frames are one JSON stream, as a request body is: each value in it is one request
 * (a value may span frames), and each answer is one text frame, the response or etcd's error body.
 *
 * etcd answers the first request and then drops the connection. etcdgw answers every request on the
 * socket, one after the other, in order. A first message that does not decode gets etcd's answer (the
 * error, then the connection drops); a later one gets the same error frame and the socket goes on.
 */
import type { FastifyInstance } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import type { CredentialsReader } from '../credentials.js'
import { Errors, type EtcdError, etcdErrorOf, httpStatusOf } from '../../errors.js'
import { encodeError } from '../codec/envelope.js'
import { bytesCodecOf } from '../codec/bytes-codec.js'
import { type Decoder, NestingTooDeep } from '../codec/compile-decoder.js'
import type { JsonValue } from '../codec/json.js'
import type { UnaryAnswer } from '../rpc.js'
import { asCalled, failWebSocket } from './stream-errors.js'
import { noSession, serveWebSocket, webSocketRoute } from './ws-route.js'
import { WsSink } from './ws-sink.js'

/** `callers`: the backend, and who each socket's upgrade says its caller is (checked again at every request). */
export function serveUnaryWebSocket<Req>(
  app: FastifyInstance,
  path: string,
  decode: Decoder<Req>,
  answer: UnaryAnswer<Req>,
  callers: { backend: Backend; credentials: CredentialsReader },
): void {
  const { streams, heartbeat } = app.rpcServices
  webSocketRoute(app, path, callers.credentials, (socket, connection, query, credentials) => {
    let codec
    try {
      codec = bytesCodecOf(query)
    } catch (err) {
      return failWebSocket(socket, err as EtcdError, asCalled)
    }
    const sink = new WsSink(socket, connection)
    const frame = (json: string) => sink.send(Buffer.from(json + '\n', 'utf8'))
    const failed = (err: unknown) => {
      const e = etcdErrorOf(err)
      if (httpStatusOf(e.grpcCode) >= 500) app.log.error({ err }, 'request failed')
      frame(encodeError(e.message, e.grpcCode))
    }
    const message = (v: JsonValue): Promise<void> => {
      let decoded
      try {
        decoded = decode(v, codec)
      } catch (err) {
        // as over HTTP: nesting too deep to decode fails in the call, with etcd's txn check error
        if (!(err instanceof NestingTooDeep)) throw err
        return Promise.resolve(failed(Errors.tooManyOps()))
      }
      return answer(decoded, codec, () => callers.backend.as(credentials)).then(frame, failed)
    }
    serveWebSocket(socket, sink, noSession, streams, message, heartbeat, asCalled)
  })
}
