/**
 * etcd's wire contract: the .proto files in this folder, written for etcdgw from etcd 3.4's messages and
 * services. The remote backend builds its gRPC clients from them; the HTTP layer compiles its JSON codec
 * and the OpenAPI document from the same message types.
 */
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * tsc does not copy .proto files: the running code (dist/src/proto/) finds them in the source tree,
 * src/proto/, by the same relative path from the repository root.
 */
export const PROTO_DIR = fileURLToPath(new URL('../../../src/proto/', import.meta.url))

/**
 * How deep messages may nest (a txn in a txn is two levels). JavaScript's stack ends long before Go's,
 * so both codecs stop here: 500 nested txns, where etcd's check refuses any txn nested deeper than
 * --max-txn-ops (128 by default).
 */
export const MAX_MESSAGE_DEPTH = 1000

/** The entry file: etcd's client API (it imports the storage and auth messages). */
export const RPC_PROTO = 'etcdserverpb/rpc.proto'

let root: protobuf.Root | undefined

/** The parsed and resolved message types, with proto field names as written. */
export function wireRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root()
    r.resolvePath = (_origin, target) => PROTO_DIR + target
    r.loadSync(RPC_PROTO, { keepCase: true })
    r.resolveAll()
    root = r
  }
  return root
}
