/**
 * etcd's Watch service: POST /v3/watch as an HTTP stream, and a WebSocket upgrade of GET /v3/watch
 * (etcd's grpc-websocket-proxy). Any number of watches share one stream.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend, Watch } from '../../backend/backend.js'
import { etcdErrorOf } from '../../errors.js'
import { bytesCodecOf } from '../codec/bytes-codec.js'
import type { CredentialsReader } from '../credentials.js'
import { codecAt } from '../codec/codecs.js'
import type { JsonValue } from '../codec/json.js'
import type { HttpStreamResponse } from '../stream/http-stream.js'
import type { StreamLimits } from '../stream/request-messages.js'
import { failWebSocket } from '../stream/stream-errors.js'
import { endStreamsOnClose, leaveBodiesUnread, openHttpStream, serveHttpStream } from '../stream/streaming-route.js'
import type { WsHeartbeat } from '../stream/ws-heartbeat.js'
import { serveWebSocket, webSocketRoute } from '../stream/ws-route.js'
import { WsSink } from '../stream/ws-sink.js'
import { WatchSession } from '../stream/watch-session.js'
import { CountedSink, countedSession } from '../stream/counted-stream.js'
import { grpcMethodAt } from '../api/grpc-methods.js'
import type { RpcCall } from '../grpc-metrics.js'

export interface WatchRoutesOptions {
  backend: Backend
  credentials: CredentialsReader
  /** Counts the streams of a caller's Watch (the open-watches gauge). */
  counted: (watch: Watch) => Watch
  limits: StreamLimits
  heartbeat: WsHeartbeat
}

export const watchRoutes: FastifyPluginAsync<WatchRoutesOptions> = async (app, opts) => {
  const { limits } = opts
  const open = new Set<HttpStreamResponse>()
  leaveBodiesUnread(app)
  endStreamsOnClose(app, open)

  const { decode } = codecAt('/v3/watch')
  const { metrics } = app.rpcServices
  const method = grpcMethodAt('/v3/watch')
  const handle = (session: WatchSession, call: RpcCall) => (v: JsonValue) => {
    const { request: req, size } = decode(v, session.codec)
    call.received(size)
    if (req.kind !== 'none') session.request(req)
  }

  app.post('/v3/watch', async (request, reply) => {
    const codec = bytesCodecOf(request.query)
    const watch = opts.counted(opts.backend.as(opts.credentials(request.raw)).watch)
    const stream = openHttpStream(reply, open)
    const call = metrics.start(method)
    const session = new WatchSession(watch, new CountedSink(stream, call), limits, codec)
    // The watch stream outlives the request body, until the client goes away.
    serveHttpStream(request.raw, stream, countedSession(session, call), limits, handle(session, call), () => {})
  })

  webSocketRoute(app, '/v3/watch', opts.credentials, (socket, connection, query, caller) => {
    let codec
    let watch
    try {
      codec = bytesCodecOf(query)
      watch = opts.counted(opts.backend.as(caller).watch)
    } catch (err) {
      return failWebSocket(socket, etcdErrorOf(err))
    }
    const call = metrics.start(method)
    const sink = new CountedSink(new WsSink(socket, connection), call)
    const session = new WatchSession(watch, sink, limits, codec)
    serveWebSocket(socket, sink, countedSession(session, call), limits, handle(session, call), opts.heartbeat)
  })
}
