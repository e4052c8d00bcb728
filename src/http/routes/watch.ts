/**
 * etcd's Watch service: POST /v3/watch as an HTTP stream, and a WebSocket upgrade of GET /v3/watch
 * (etcd's grpc-websocket-proxy). Any number of watches share one stream.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Watch } from '../../backend/backend.js'
import type { EtcdError } from '../../errors.js'
import { bytesCodecOf } from '../codec/bytes-codec.js'
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
  watch: Watch
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
    const stream = openHttpStream(reply, open)
    const call = metrics.start(method)
    const session = new WatchSession(opts.watch, new CountedSink(stream, call), limits, codec)
    // The watch stream outlives the request body, until the client goes away.
    serveHttpStream(request.raw, stream, countedSession(session, call), limits, handle(session, call), () => {})
  })

  webSocketRoute(app, '/v3/watch', (socket, connection, query) => {
    let codec
    try {
      codec = bytesCodecOf(query)
    } catch (err) {
      return failWebSocket(socket, err as EtcdError)
    }
    const call = metrics.start(method)
    const sink = new CountedSink(new WsSink(socket, connection), call)
    const session = new WatchSession(opts.watch, sink, limits, codec)
    serveWebSocket(socket, sink, countedSession(session, call), limits, handle(session, call), opts.heartbeat)
  })
}
