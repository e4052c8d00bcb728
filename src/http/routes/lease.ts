/**
 * etcd's Lease service: POST /v3/lease/{grant,revoke,timetolive,leases} (and etcd 3.4's aliases under
 * /v3/kv/lease/), and /v3/lease/keepalive as an HTTP stream or over WebSocket.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Lease } from '../../backend/backend.js'
import { codecAt } from '../codec/codecs.js'
import type { JsonValue } from '../codec/json.js'
import { KeepAliveSession } from '../stream/keepalive-session.js'
import { serveUnary } from '../rpc.js'
import type { HttpStreamResponse } from '../stream/http-stream.js'
import type { StreamLimits } from '../stream/request-messages.js'
import { failWebSocket } from '../stream/stream-errors.js'
import { endStreamsOnClose, leaveBodiesUnread, openHttpStream, serveHttpStream } from '../stream/streaming-route.js'
import type { WsHeartbeat } from '../stream/ws-heartbeat.js'
import { serveWebSocket, webSocketRoute } from '../stream/ws-route.js'
import { WsSink } from '../stream/ws-sink.js'
import { CountedSink, countedSession } from '../stream/counted-stream.js'
import { grpcMethodAt } from '../api/grpc-methods.js'
import type { RpcCall } from '../grpc-metrics.js'
import { type EtcdError, GrpcCode } from '../../errors.js'

export interface LeaseRoutesOptions {
  lease: Lease
  limits: StreamLimits
  heartbeat: WsHeartbeat
}

export const leaseRoutes: FastifyPluginAsync<LeaseRoutesOptions> = async (app, { lease, limits, heartbeat }) => {
  serveUnary(app, limits.requests, '/v3/lease/grant', { proposal: () => true, call: (req) => lease.grant(req) })
  // etcd 3.4 serves these under /v3/kv/lease/ too
  for (const path of ['/v3/lease/revoke', '/v3/kv/lease/revoke'] as const) {
    serveUnary(app, limits.requests, path, { proposal: () => true, call: (req) => lease.revoke(req.id) })
  }
  for (const path of ['/v3/lease/timetolive', '/v3/kv/lease/timetolive'] as const) {
    serveUnary(app, limits.requests, path, { proposal: () => false, call: (req) => lease.timeToLive(req) })
  }
  for (const path of ['/v3/lease/leases', '/v3/kv/lease/leases'] as const) {
    serveUnary(app, limits.requests, path, { proposal: () => false, call: () => lease.leases() })
  }
  app.register(keepAliveRoutes, { lease, limits, heartbeat })
}

const keepAliveRoutes: FastifyPluginAsync<LeaseRoutesOptions> = async (app, { lease, limits, heartbeat }) => {
  const open = new Set<HttpStreamResponse>()
  leaveBodiesUnread(app)
  endStreamsOnClose(app, open)
  const { decode } = codecAt('/v3/lease/keepalive')
  const { metrics } = app.rpcServices
  const method = grpcMethodAt('/v3/lease/keepalive')
  const handle = (session: KeepAliveSession, call: RpcCall) => (v: JsonValue) => {
    const { request: req, size } = decode(v)
    call.received(size)
    return session.request(req.id)
  }
  /** A backend failure, or the budget shedding the stream, ends the call with that error's code. */
  const ending = (call: RpcCall, end: (err: EtcdError) => void) => (err: EtcdError) => {
    call.end(err.grpcCode)
    end(err)
  }

  app.post('/v3/lease/keepalive', async (request, reply) => {
    const stream = openHttpStream(reply, open)
    const call = metrics.start(method)
    const session = new KeepAliveSession(lease, new CountedSink(stream, call), limits.budget, ending(call, (err) => stream.abort(err)))
    // Unlike watch, the keepalive stream ends with its request body (etcd 3.4).
    serveHttpStream(request.raw, stream, countedSession(session, call), limits, handle(session, call), () => {
      call.end(GrpcCode.OK)
      stream.end()
    })
  })

  webSocketRoute(app, '/v3/lease/keepalive', (socket, connection) => {
    const call = metrics.start(method)
    const sink = new CountedSink(new WsSink(socket, connection), call)
    const session = new KeepAliveSession(lease, sink, limits.budget, ending(call, (err) => failWebSocket(socket, err)))
    serveWebSocket(socket, sink, countedSession(session, call), limits, handle(session, call), heartbeat)
  })
}
