/**
 * The shape every unary RPC route shares: read the body's first JSON value, decode it, apply etcd's
 * request size limits, call the backend, write the response as etcd's gateway does. The same RPC is
 * served over WebSocket at the same path (see unary-ws.ts), and counted in etcd's gRPC metrics.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Backend } from '../backend/backend.js'
import { type EtcdError, etcdErrorOf, Errors, GrpcCode } from '../errors.js'
import type { CredentialsReader } from './credentials.js'
import { type BytesCodec, bytesCodecOf } from './codec/bytes-codec.js'
import { type Decoded, type Decoder, NestingTooDeep } from './codec/compile-decoder.js'
import { codecAt, type RoutePath, type RouteRequest, type RouteResponse } from './codec/codecs.js'
import { grpcMessageLimit, raftRequestSize } from '../proto-size.js'
import { type JsonValue, readFirstValue } from './codec/json.js'
import { grpcMethodAt } from './api/grpc-methods.js'
import type { GrpcMetrics } from './grpc-metrics.js'
import type { StreamLimits } from './stream/request-messages.js'
import type { WsHeartbeat } from './stream/ws-heartbeat.js'
import { serveUnaryWebSocket } from './stream/unary-ws.js'

/** What every RPC route shares besides its own options; buildApp decorates the root app with it. */
export interface RpcServices {
  metrics: GrpcMetrics
  /** The limits of messages arriving as WebSocket frames. */
  streams: StreamLimits
  heartbeat: WsHeartbeat
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request has passed JSON decoding, i.e. where etcd's gateway starts its gRPC call. */
    rpcStarted: boolean
  }
  interface FastifyInstance {
    rpcServices: RpcServices
  }
}

export class RequestLimits {
  /** The gRPC server's receive limit. */
  readonly maxMessageBytes: number

  constructor(readonly maxRequestBytes: number) {
    this.maxMessageBytes = grpcMessageLimit(maxRequestBytes)
  }

  /** etcd's gRPC server refuses any message larger than its receive limit. */
  messageTooLarge(size: number): EtcdError {
    return Errors.messageTooLarge(size, this.maxMessageBytes)
  }

  /** `proposal`: the request goes through raft (writes), where etcdserver checks the proposal's size. */
  check(size: number, proposal: boolean): void {
    if (size > this.maxMessageBytes) throw this.messageTooLarge(size)
    if (proposal && raftRequestSize(size) > this.maxRequestBytes) throw Errors.requestTooLarge()
  }
}

/** The request body as a byte string, so the JSON reader sees bytes, not UTF-16 code units. */
export function bodyValue(request: FastifyRequest): JsonValue | undefined {
  const body = request.body
  if (!Buffer.isBuffer(body) || body.length === 0) return undefined
  return readFirstValue(body.toString('latin1'))
}

/** The text as is; a reply serializer also keeps Fastify from appending `; charset=utf-8` to the type. */
export const asIs = (json: string) => json

export function sendJson(reply: FastifyReply, json: string): FastifyReply {
  return reply
    .header('content-type', 'application/json')
    .header('grpc-metadata-content-type', 'application/grpc')
    .serializer(asIs)
    .send(json)
}

export interface UnaryRpc<Req, Res> {
  /** Whether etcd sends this request through raft (and so checks it against --max-request-bytes). */
  proposal(req: Req): boolean
  /** `backend` acts for the request's caller (backend.as). */
  call(req: Req, backend: Backend): Promise<Res>
}

/** What every unary route needs: the request limits, the backend it acts on for each caller, and who that is. */
export interface UnaryRoutes {
  limits: RequestLimits
  backend: Backend
  credentials: CredentialsReader
}

/** The request's message; one nested deeper than the decoder goes fails in the RPC, with etcd's txn check error. */
function decodeRequest<T>(request: FastifyRequest, decode: Decoder<T>, codec: BytesCodec): Decoded<T> {
  try {
    return decode(bodyValue(request), codec)
  } catch (err) {
    if (!(err instanceof NestingTooDeep)) throw err
    request.rpcStarted = true
    throw Errors.tooManyOps()
  }
}

/**
 * One decoded request in, its response's JSON out (or an EtcdError): the call, whatever the transport.
 * `caller` is the backend acting for the request's caller, asked for once the request has passed etcd's
 * size checks (as etcd checks auth after them).
 */
export type UnaryAnswer<Req> = (decoded: Decoded<Req>, codec: BytesCodec, caller: () => Backend) => Promise<string>

/**
 * Serves the unary RPC at `path`, with the messages its operation in api/messages.ts names, by POST and
 * over WebSocket; each call is counted under the gRPC method the operation stands for.
 */
export function serveUnary<P extends RoutePath>(
  app: FastifyInstance,
  { limits, backend, credentials }: UnaryRoutes,
  path: P,
  rpc: UnaryRpc<RouteRequest<P>, RouteResponse<P>>,
): void {
  const { decode, encode } = codecAt(path)
  const method = grpcMethodAt(path)
  const { metrics } = app.rpcServices
  const answer: UnaryAnswer<RouteRequest<P>> = async (decoded, codec, caller) => {
    // gRPC refuses a message over its limit before the call starts
    if (decoded.size > limits.maxMessageBytes) throw limits.messageTooLarge(decoded.size)
    const call = metrics.start(method)
    call.received(decoded.size)
    try {
      limits.check(decoded.size, rpc.proposal(decoded.request))
      const json = encode(await rpc.call(decoded.request, caller()), codec)
      call.sent(Buffer.byteLength(json))
      call.end(GrpcCode.OK)
      return json
    } catch (err) {
      call.end(etcdErrorOf(err).grpcCode)
      throw err
    }
  }
  app.post(path, async function (request, reply) {
    const codec = bytesCodecOf(request.query)
    const decoded = decodeRequest(request, decode, codec)
    request.rpcStarted = true
    return sendJson(reply, await answer(decoded, codec, () => backend.as(credentials(request.raw))))
  })
  serveUnaryWebSocket(app, path, decode, answer, { backend, credentials })
}
