import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { PROTO_DIR, RPC_PROTO } from '../../proto/wire.js'

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
