/**
 * The shape every unary RPC route shares: read the body's first JSON value, decode it, apply etcd's
 * request size limits, call the backend, write the response as etcd's gateway does.
 */
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { EtcdError, Errors } from '../errors.js'
import { type BytesCodec, bytesCodecOf } from './codec/bytes-codec.js'
import type { Decoded } from './codec/compile-decoder.js'
import { raftRequestSize } from '../proto-size.js'
import { type JsonValue, readFirstValue } from './json.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request has passed JSON decoding, i.e. where etcd's gateway starts its gRPC call. */
    rpcStarted: boolean
  }
}

/** gRPC's allowance on top of --max-request-bytes (etcd's grpcOverheadBytes). */
export const grpcOverheadBytes = 512 * 1024

export class RequestLimits {
  /** The gRPC server's receive limit. */
  readonly maxMessageBytes: number

  constructor(readonly maxRequestBytes: number) {
    this.maxMessageBytes = maxRequestBytes + grpcOverheadBytes
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
  decode(v: JsonValue | undefined, codec: BytesCodec): Decoded<Req>
  /** Whether etcd sends this request through raft (and so checks it against --max-request-bytes). */
  proposal(req: Req): boolean
  call(req: Req): Promise<Res>
  encode(res: Res, codec: BytesCodec): string
}

export function unaryHandler<Req, Res>(limits: RequestLimits, rpc: UnaryRpc<Req, Res>): RouteHandlerMethod {
  return async function (request, reply) {
    const codec = bytesCodecOf(request.query)
    const decoded = rpc.decode(bodyValue(request), codec)
    request.rpcStarted = true
    limits.check(decoded.size, rpc.proposal(decoded.request))
    const response = await rpc.call(decoded.request)
    return sendJson(reply, rpc.encode(response, codec))
  }
}
