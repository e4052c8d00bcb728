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
  const handle = (session: WatchSession) => (v: JsonValue) => {
    const req = decode(v, session.codec).request
    if (req.kind !== 'none') session.request(req)
  }

  app.post('/v3/watch', async (request, reply) => {
    const codec = bytesCodecOf(request.query)
    const watch = opts.counted(opts.backend.as(opts.credentials(request.raw)).watch)
    const stream = openHttpStream(reply, open)
    const session = new WatchSession(watch, stream, limits, codec)
    // The watch stream outlives the request body, until the client goes away.
    serveHttpStream(request.raw, stream, session, limits, handle(session), () => {})
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
    const sink = new WsSink(socket, connection)
    const session = new WatchSession(watch, sink, limits, codec)
    serveWebSocket(socket, sink, session, limits, handle(session), opts.heartbeat)
  })
}
