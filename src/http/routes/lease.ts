/**
 * etcd's Lease service: POST /v3/lease/{grant,revoke,timetolive,leases} (and etcd 3.4's aliases under
 * /v3/kv/lease/), and /v3/lease/keepalive as an HTTP stream or over WebSocket.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import { codecAt } from '../codec/codecs.js'
import type { JsonValue } from '../codec/json.js'
import type { CredentialsReader } from '../credentials.js'
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
import { type EtcdError, etcdErrorOf, GrpcCode } from '../../errors.js'

export interface LeaseRoutesOptions {
  backend: Backend
  credentials: CredentialsReader
  limits: StreamLimits
  heartbeat: WsHeartbeat
}

export const leaseRoutes: FastifyPluginAsync<LeaseRoutesOptions> = async (app, opts) => {
  const routes = { limits: opts.limits.requests, backend: opts.backend, credentials: opts.credentials }
  serveUnary(app, routes, '/v3/lease/grant', { proposal: () => true, call: (req, b) => b.lease.grant(req) })
  // etcd 3.4 serves these under /v3/kv/lease/ too
  for (const path of ['/v3/lease/revoke', '/v3/kv/lease/revoke'] as const) {
    serveUnary(app, routes, path, { proposal: () => true, call: (req, b) => b.lease.revoke(req.id) })
  }
  for (const path of ['/v3/lease/timetolive', '/v3/kv/lease/timetolive'] as const) {
    serveUnary(app, routes, path, { proposal: () => false, call: (req, b) => b.lease.timeToLive(req) })
  }
  for (const path of ['/v3/lease/leases', '/v3/kv/lease/leases'] as const) {
    serveUnary(app, routes, path, { proposal: () => false, call: (_req, b) => b.lease.leases() })
  }
  app.register(keepAliveRoutes, opts)
}

const keepAliveRoutes: FastifyPluginAsync<LeaseRoutesOptions> = async (app, { backend, credentials, limits, heartbeat }) => {
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
    const lease = backend.as(credentials(request.raw)).lease
    const stream = openHttpStream(reply, open)
    const call = metrics.start(method)
    const session = new KeepAliveSession(lease, new CountedSink(stream, call), limits.budget, ending(call, (err) => stream.abort(err)))
    // Unlike watch, the keepalive stream ends with its request body (etcd 3.4).
    serveHttpStream(request.raw, stream, countedSession(session, call), limits, handle(session, call), () => {
      call.end(GrpcCode.OK)
      stream.end()
    })
  })

  webSocketRoute(app, '/v3/lease/keepalive', credentials, (socket, connection, _query, caller) => {
    let lease
    try {
      lease = backend.as(caller).lease
    } catch (err) {
      return failWebSocket(socket, etcdErrorOf(err))
    }
    const call = metrics.start(method)
    const sink = new CountedSink(new WsSink(socket, connection), call)
    const session = new KeepAliveSession(lease, sink, limits.budget, ending(call, (err) => failWebSocket(socket, err)))
    serveWebSocket(socket, sink, countedSession(session, call), limits, handle(session, call), heartbeat)
  })
}
