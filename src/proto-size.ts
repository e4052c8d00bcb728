/**
 * Protobuf encoded sizes, for etcd's request limits: gRPC refuses a request message larger than
 * --max-request-bytes + 512 KiB, and etcdserver refuses a raft proposal larger than --max-request-bytes.
 */
import type { KeyValue } from './backend/backend.js'

/** gRPC's receive limit on one message: --max-request-bytes plus etcd's grpcOverheadBytes (512 KiB). */
export function grpcMessageLimit(maxRequestBytes: number): number {
  return maxRequestBytes + 512 * 1024
}

/** Size of a varint holding `n` (an int64 or uint64; negative int64s take ten bytes). */
export function varintSize(n: number | bigint): number {
  if (typeof n === 'bigint') {
    if (n < 0n) return 10
    let size = 1
    while (n >= 0x80n) {
      n >>= 7n
      size++
    }
    return size
  }
  if (n < 0) return 10
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 128)
    size++
  }
  return size
}

/** A length-delimited field (bytes, string, message) with a one-byte tag, present when non-empty. */
export function bytesFieldSize(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len
}

/** A length-delimited field with a one-byte tag, present even when empty (repeated elements, oneof members). */
export function messageFieldSize(len: number): number {
  return 1 + varintSize(len) + len
}

/** A varint field with a one-byte tag, omitted when zero (proto3). */
export function varintFieldSize(n: number | bigint): number {
  return n === 0 || n === 0n ? 0 : 1 + varintSize(n)
}

/** etcd's InternalRaftRequest header: field 100 (two-byte tag), holding a RequestHeader with its ID. */
const headerFieldSize = 2 + 1 + 1 + 9 // ID: nine-byte varint, as etcd's IDs (member bits + time) mostly are

/**
 * Size of the raft proposal etcd builds for a write: InternalRaftRequest { header, <request> } where
 * the request is a one-byte-tag field. etcd's request ID takes nine or ten varint bytes depending on its
 * member ID; we count nine.
 */
export function raftRequestSize(requestSize: number): number {
  return headerFieldSize + messageFieldSize(requestSize)
}

/** What an mvccpb.KeyValue's size depends on: its numbers and the lengths of its key and value. */
export type KeyValueShape = Pick<KeyValue, 'createRevision' | 'modRevision' | 'version' | 'lease'> & {
  key: { length: number }
  value: { length: number }
}

/** An mvccpb.KeyValue's size. */
export function keyValueSize(kv: KeyValueShape): number {
  return (
    bytesFieldSize(kv.key.length) +
    varintFieldSize(kv.createRevision) +
    varintFieldSize(kv.modRevision) +
    varintFieldSize(kv.version) +
    bytesFieldSize(kv.value.length) +
    varintFieldSize(kv.lease)
  )
}
