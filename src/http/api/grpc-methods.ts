/**
 * etcd's gRPC methods, read from the services of the .proto files (src/proto/): the method each route of
 * the table (messages.ts) stands for is the one taking its request message, as every etcd RPC has a
 * request message of its own. Metrics are labelled with these, as etcd's gRPC server labels its own.
 */
import protobuf from 'protobufjs'
import { wireRoot } from '../../proto/wire.js'
import { type Operation, operationAt } from './messages.js'

/** go-grpc-prometheus's grpc_type label. */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream'

export interface GrpcMethod {
  /** `etcdserverpb.KV` */
  service: string
  /** `Range` */
  method: string
  type: GrpcType
  /** The request message's name. */
  request: string
}

function typeOf(m: protobuf.Method): GrpcType {
  if (m.requestStream) return m.responseStream ? 'bidi_stream' : 'client_stream'
  return m.responseStream ? 'server_stream' : 'unary'
}

function servicesIn(ns: protobuf.NamespaceBase): protobuf.Service[] {
  return ns.nestedArray.flatMap((n) =>
    n instanceof protobuf.Service ? [n] : n instanceof protobuf.Namespace ? servicesIn(n) : [],
  )
}

let methods: readonly GrpcMethod[] | undefined

/** Every method of etcd's services, in the order the .proto declares them. */
export function grpcMethods(): readonly GrpcMethod[] {
  methods ??= servicesIn(wireRoot()).flatMap((s) =>
    s.methodsArray.map((m) => ({
      service: s.fullName.slice(1),
      method: m.name,
      type: typeOf(m),
      request: m.resolvedRequestType?.name ?? m.requestType,
    })),
  )
  return methods
}

/** The method a route of the table stands for; none for plain HTTP routes (/health, /metrics). */
export function grpcMethodOf(op: Pick<Operation, 'request'>): GrpcMethod | undefined {
  return op.request === undefined ? undefined : grpcMethods().find((m) => m.request === op.request)
}

/** The method the route at `path` stands for. */
export function grpcMethodAt(path: string): GrpcMethod {
  const method = grpcMethodOf(operationAt(path))
  if (!method) throw new Error(`no gRPC method takes the request of ${path}`)
  return method
}
