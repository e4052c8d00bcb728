import {
  CompareTarget,
  type CompactionRequest,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type Event,
  type KeyValue,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseTimeToLiveResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
  type WatchCreateRequest,
  type WatchResponse,
} from '../backend.js'
import type {
  Int64,
  PbCompactionRequest,
  PbCompare,
  PbDeleteRangeRequest,
  PbDeleteRangeResponse,
  PbEvent,
  PbKeyValue,
  PbLeaseGrantResponse,
  PbLeaseKeepAliveResponse,
  PbLeaseLeasesResponse,
  PbLeaseTimeToLiveResponse,
  PbPutRequest,
  PbPutResponse,
  PbRangeRequest,
  PbRangeResponse,
  PbRequestOp,
  PbResponseHeader,
  PbResponseOp,
  PbTxnRequest,
  PbTxnResponse,
  PbWatchCreateRequest,
  PbWatchResponse,
} from './messages.js'

/** Revisions, counts and TTLs stay far below 2^53; 64-bit IDs become bigints. */
const num = (v: Int64 | undefined): number => (v === undefined ? 0 : Number(v))
const id = (v: Int64 | undefined): bigint => (v === undefined ? 0n : BigInt(v))
/** The wire form of a 64-bit ID (protobufjs takes decimal strings for int64 and uint64 fields). */
export const idOut = (v: bigint): string => v.toString()

/**
 * An empty bytes field is left off the wire: etcd (gogo) decodes a present empty field as an empty
 * non-nil slice, and an empty non-nil range_end means "every key >= key", not "this key only".
 */
const bytes = (b: Buffer): Buffer | undefined => (b.length > 0 ? b : undefined)

/** The serving member's header, passed through unchanged. */
export function header(h: PbResponseHeader | null): ResponseHeader {
  return {
    clusterId: id(h?.cluster_id),
    memberId: id(h?.member_id),
    revision: num(h?.revision),
    raftTerm: num(h?.raft_term),
  }
}

export function keyValue(kv: PbKeyValue): KeyValue {
  return {
    key: kv.key,
    createRevision: num(kv.create_revision),
    modRevision: num(kv.mod_revision),
    version: num(kv.version),
    value: kv.value,
    lease: id(kv.lease),
  }
}

export function rangeRequest(r: RangeRequest): PbRangeRequest {
  return {
    key: bytes(r.key),
    range_end: bytes(r.rangeEnd),
    limit: r.limit,
    revision: r.revision,
    sort_order: r.sortOrder,
    sort_target: r.sortTarget,
    serializable: r.serializable,
    keys_only: r.keysOnly,
    count_only: r.countOnly,
    min_mod_revision: r.minModRevision,
    max_mod_revision: r.maxModRevision,
    min_create_revision: r.minCreateRevision,
    max_create_revision: r.maxCreateRevision,
  }
}

export function rangeResponse(r: PbRangeResponse): RangeResponse {
  return { header: header(r.header), kvs: r.kvs.map(keyValue), more: r.more, count: num(r.count) }
}

export function putRequest(r: PutRequest): PbPutRequest {
  return {
    key: bytes(r.key),
    value: bytes(r.value),
    lease: idOut(r.lease),
    prev_kv: r.prevKv,
    ignore_value: r.ignoreValue,
    ignore_lease: r.ignoreLease,
  }
}

export function putResponse(r: PbPutResponse): PutResponse {
  const out: PutResponse = { header: header(r.header) }
  if (r.prev_kv) out.prevKv = keyValue(r.prev_kv)
  return out
}

export function deleteRangeRequest(r: DeleteRangeRequest): PbDeleteRangeRequest {
  return { key: bytes(r.key), range_end: bytes(r.rangeEnd), prev_kv: r.prevKv }
}

export function deleteRangeResponse(r: PbDeleteRangeResponse): DeleteRangeResponse {
  return { header: header(r.header), deleted: num(r.deleted), prevKvs: r.prev_kvs.map(keyValue) }
}

function compare(c: Compare): PbCompare {
  const out: PbCompare = { result: c.result, target: c.target, key: bytes(c.key), range_end: bytes(c.rangeEnd) }
  // only the member of etcd's target_union named by target goes on the wire
  switch (c.target) {
    case CompareTarget.VERSION:
      out.version = c.version
      break
    case CompareTarget.CREATE:
      out.create_revision = c.createRevision
      break
    case CompareTarget.MOD:
      out.mod_revision = c.modRevision
      break
    case CompareTarget.VALUE:
      out.value = c.value
      break
    case CompareTarget.LEASE:
      out.lease = idOut(c.lease)
      break
  }
  return out
}

function requestOp(op: RequestOp): PbRequestOp {
  switch (op.kind) {
    case 'range':
      return { request_range: rangeRequest(op.request) }
    case 'put':
      return { request_put: putRequest(op.request) }
    case 'deleteRange':
      return { request_delete_range: deleteRangeRequest(op.request) }
    case 'txn':
      return { request_txn: txnRequest(op.request) }
    case 'none':
      return {}
  }
}

export function txnRequest(r: TxnRequest): PbTxnRequest {
  return { compare: r.compare.map(compare), success: r.success.map(requestOp), failure: r.failure.map(requestOp) }
}

function responseOp(op: PbResponseOp): ResponseOp {
  switch (op.response) {
    case 'response_range':
      return { kind: 'range', response: rangeResponse(op.response_range!) }
    case 'response_put':
      return { kind: 'put', response: putResponse(op.response_put!) }
    case 'response_delete_range':
      return { kind: 'deleteRange', response: deleteRangeResponse(op.response_delete_range!) }
    case 'response_txn':
      return { kind: 'txn', response: txnResponse(op.response_txn!) }
    default:
      throw new Error(`etcd sent a ResponseOp without a response (${JSON.stringify(op)})`)
  }
}

export function txnResponse(r: PbTxnResponse): TxnResponse {
  return { header: header(r.header), succeeded: r.succeeded, responses: r.responses.map(responseOp) }
}

export function compactionRequest(r: CompactionRequest): PbCompactionRequest {
  return { revision: r.revision, physical: r.physical }
}

export function leaseGrantResponse(r: PbLeaseGrantResponse): LeaseGrantResponse {
  return { header: header(r.header), id: id(r.ID), ttl: num(r.TTL) }
}

export function leaseKeepAliveResponse(r: PbLeaseKeepAliveResponse): LeaseKeepAliveResponse {
  return { header: header(r.header), id: id(r.ID), ttl: num(r.TTL) }
}

export function leaseTimeToLiveResponse(r: PbLeaseTimeToLiveResponse): LeaseTimeToLiveResponse {
  return { header: header(r.header), id: id(r.ID), ttl: num(r.TTL), grantedTtl: num(r.grantedTTL), keys: r.keys }
}

export function leaseLeasesResponse(r: PbLeaseLeasesResponse): LeaseLeasesResponse {
  return { header: header(r.header), leases: r.leases.map((l) => ({ id: id(l.ID) })) }
}

export function watchCreateRequest(r: WatchCreateRequest, upstreamId: number, startRevision: number): PbWatchCreateRequest {
  return {
    key: bytes(r.key),
    range_end: bytes(r.rangeEnd),
    start_revision: startRevision,
    progress_notify: r.progressNotify,
    filters: r.filters,
    prev_kv: r.prevKv,
    watch_id: upstreamId,
    fragment: r.fragment,
  }
}

function event(e: PbEvent): Event {
  const out: Event = { type: e.type, kv: keyValue(e.kv!) }
  if (e.prev_kv) out.prevKv = keyValue(e.prev_kv)
  return out
}

/** A watch response as the client sees it: `watchId` is the client's own ID on its stream. */
export function watchResponse(r: PbWatchResponse, watchId: number): WatchResponse {
  return {
    header: header(r.header),
    watchId,
    created: r.created,
    canceled: r.canceled,
    compactRevision: num(r.compact_revision),
    cancelReason: r.cancel_reason,
    fragment: r.fragment,
    events: r.events.map(event),
  }
}
