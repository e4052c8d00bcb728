import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import protobuf from 'protobufjs'
import { MAX_MESSAGE_DEPTH, PROTO_DIR, RPC_PROTO } from '../../proto/wire.js'

// protobufjs stops at 100 levels, so a txn nested 50 deep would fail to go to etcd, or its answer to come back
protobuf.util.recursionLimit = MAX_MESSAGE_DEPTH
protobuf.Reader.recursionLimit = MAX_MESSAGE_DEPTH

/** Decoded messages keep proto field names, int64/uint64 as decimal strings (every bit), bytes as Buffers. */
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
}

export type ServiceName = 'KV' | 'Watch' | 'Lease' | 'Cluster' | 'Maintenance' | 'Auth'

let services: Record<ServiceName, grpc.ServiceClientConstructor> | undefined

/** Client constructors of etcd's services, loaded once. */
export function etcdServices(): Record<ServiceName, grpc.ServiceClientConstructor> {
  if (!services) {
    const definition = protoLoader.loadSync(RPC_PROTO, LOADER_OPTIONS)
    const pkg = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject
    const get = (name: ServiceName) => pkg[name] as grpc.ServiceClientConstructor
    services = {
      KV: get('KV'),
      Watch: get('Watch'),
      Lease: get('Lease'),
      Cluster: get('Cluster'),
      Maintenance: get('Maintenance'),
      Auth: get('Auth'),
    }
  }
  return services
}
