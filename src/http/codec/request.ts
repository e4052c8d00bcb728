/**
 * JSON request bodies → the internal request types of backend.ts, with the protobuf size of the
 * message etcd's gateway would have sent over gRPC (for the request size limits).
 *
 * Fields are read in the order of the Go struct, so that among several bad fields the one etcd names
 * is the first in proto order, not the first in the body.
 */
import {
  type Compare,
  type CompactionRequest,
  type DeleteRangeRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from '../../backend/backend.js'
import { Errors } from '../../errors.js'
import { JsonObject, type JsonValue, kindOf } from '../json.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { bool, enumValue, field, int64, int64Big, message, repeated } from './fields.js'
import { bytesFieldSize, messageFieldSize, varintFieldSize, varintSize } from '../../proto-size.js'

export interface Decoded<T> {
  request: T
  /** Size of the request as a protobuf message. */
  size: number
}

const emptyObject = new JsonObject()

/** The top-level body: Go's Decoder yields nothing (empty body) or null for an empty request. */
export function body(v: JsonValue | undefined): JsonObject {
  if (v === undefined || v === null) return emptyObject
  if (v instanceof JsonObject) return v
  throw Errors.badRequest(`json: cannot unmarshal ${kindOf(v)} into Go value of type map[string]json.RawMessage`)
}

const sortOrders = new Map([['NONE', 0], ['ASCEND', 1], ['DESCEND', 2]])
const sortTargets = new Map([['KEY', 0], ['VERSION', 1], ['CREATE', 2], ['MOD', 3], ['VALUE', 4]])
const compareResults = new Map([['EQUAL', 0], ['GREATER', 1], ['LESS', 2], ['NOT_EQUAL', 3]])
const compareTargets = new Map([['VERSION', 0], ['CREATE', 1], ['MOD', 2], ['VALUE', 3], ['LEASE', 4]])

function rangeRequest(o: JsonObject, codec: BytesCodec): Decoded<RangeRequest> {
  // fields one by one: spreading the key range into a literal takes V8's slow path (~30× the decode)
  const { key, rangeEnd } = codec.keyRange(o)
  const request: RangeRequest = {
    key,
    rangeEnd,
    limit: int64(o.get('limit')),
    revision: int64(o.get('revision')),
    sortOrder: enumValue(field(o, 'sort_order', 'sortOrder'), 'etcdserverpb.RangeRequest_SortOrder', sortOrders),
    sortTarget: enumValue(field(o, 'sort_target', 'sortTarget'), 'etcdserverpb.RangeRequest_SortTarget', sortTargets),
    serializable: bool(o.get('serializable')),
    keysOnly: bool(field(o, 'keys_only', 'keysOnly')),
    countOnly: bool(field(o, 'count_only', 'countOnly')),
    minModRevision: int64(field(o, 'min_mod_revision', 'minModRevision')),
    maxModRevision: int64(field(o, 'max_mod_revision', 'maxModRevision')),
    minCreateRevision: int64(field(o, 'min_create_revision', 'minCreateRevision')),
    maxCreateRevision: int64(field(o, 'max_create_revision', 'maxCreateRevision')),
  }
  const r = request
  const size =
    bytesFieldSize(r.key.length) +
    bytesFieldSize(r.rangeEnd.length) +
    varintFieldSize(r.limit) +
    varintFieldSize(r.revision) +
    varintFieldSize(r.sortOrder) +
    varintFieldSize(r.sortTarget) +
    (r.serializable ? 2 : 0) +
    (r.keysOnly ? 2 : 0) +
    (r.countOnly ? 2 : 0) +
    varintFieldSize(r.minModRevision) +
    varintFieldSize(r.maxModRevision) +
    varintFieldSize(r.minCreateRevision) +
    varintFieldSize(r.maxCreateRevision)
  return { request, size }
}

function putRequest(o: JsonObject, codec: BytesCodec): Decoded<PutRequest> {
  const request: PutRequest = {
    key: codec.read(o.get('key')),
    value: codec.read(o.get('value')),
    lease: int64Big(o.get('lease')),
    prevKv: bool(field(o, 'prev_kv', 'prevKv')),
    ignoreValue: bool(field(o, 'ignore_value', 'ignoreValue')),
    ignoreLease: bool(field(o, 'ignore_lease', 'ignoreLease')),
  }
  const r = request
  const size =
    bytesFieldSize(r.key.length) +
    bytesFieldSize(r.value.length) +
    varintFieldSize(r.lease) +
    (r.prevKv ? 2 : 0) +
    (r.ignoreValue ? 2 : 0) +
    (r.ignoreLease ? 2 : 0)
  return { request, size }
}

function deleteRangeRequest(o: JsonObject, codec: BytesCodec): Decoded<DeleteRangeRequest> {
  const { key, rangeEnd } = codec.keyRange(o)
  const request: DeleteRangeRequest = {
    key,
    rangeEnd,
    prevKv: bool(field(o, 'prev_kv', 'prevKv')),
  }
  const size = bytesFieldSize(request.key.length) + bytesFieldSize(request.rangeEnd.length) + (request.prevKv ? 2 : 0)
  return { request, size }
}

/**
 * Compare's target_union is a oneof: etcd keeps one of the values given (Go map order decides when
 * several are). We keep them all; the backend reads the one named by `target`, which is what etcd
 * does whenever only that one is given.
 */
function compare(o: JsonObject, codec: BytesCodec): Decoded<Compare> {
  const result = enumValue(o.get('result'), 'etcdserverpb.Compare_CompareResult', compareResults)
  const target = enumValue(o.get('target'), 'etcdserverpb.Compare_CompareTarget', compareTargets)
  const { key, rangeEnd } = codec.keyRange(o)
  const version = o.get('version')
  const createRevision = field(o, 'create_revision', 'createRevision')
  const modRevision = field(o, 'mod_revision', 'modRevision')
  const value = o.get('value')
  const lease = o.get('lease')
  const request: Compare = {
    result,
    target,
    key,
    rangeEnd,
    version: int64(version),
    createRevision: int64(createRevision),
    modRevision: int64(modRevision),
    value: codec.read(value),
    lease: int64Big(lease),
  }
  const members = [
    oneofVarint(version, request.version),
    oneofVarint(createRevision, request.createRevision),
    oneofVarint(modRevision, request.modRevision),
    value !== undefined ? messageFieldSize(request.value.length) : -1,
    oneofVarint(lease, request.lease),
  ]
  const targetMember = members[target] ?? -1
  const targetUnion = targetMember >= 0 ? targetMember : Math.max(0, ...members)
  const size =
    varintFieldSize(result) +
    varintFieldSize(target) +
    bytesFieldSize(key.length) +
    targetUnion +
    (rangeEnd.length === 0 ? 0 : 1 + messageFieldSize(rangeEnd.length))
  return { request, size }
}

/** A oneof member's size: present (even null or zero) once given; -1 when absent. */
function oneofVarint(given: JsonValue | undefined, n: number | bigint): number {
  return given === undefined ? -1 : 1 + varintSize(n)
}

/**
 * RequestOp's oneof. Every member given is decoded (a bad one fails, as in etcd whatever Go's map
 * order); the first non-null member in proto order is the request.
 */
function requestOp(o: JsonObject, codec: BytesCodec): Decoded<RequestOp> {
  const range = message(field(o, 'request_range', 'requestRange'))
  const put = message(field(o, 'request_put', 'requestPut'))
  const deleteRange = message(field(o, 'request_delete_range', 'requestDeleteRange'))
  const txn = message(field(o, 'request_txn', 'requestTxn'))
  const r = range && rangeRequest(range, codec)
  const p = put && putRequest(put, codec)
  const d = deleteRange && deleteRangeRequest(deleteRange, codec)
  const t = txn && txnRequest(txn, codec)
  if (r) return { request: { kind: 'range', request: r.request }, size: messageFieldSize(r.size) }
  if (p) return { request: { kind: 'put', request: p.request }, size: messageFieldSize(p.size) }
  if (d) return { request: { kind: 'deleteRange', request: d.request }, size: messageFieldSize(d.size) }
  if (t) return { request: { kind: 'txn', request: t.request }, size: messageFieldSize(t.size) }
  return { request: { kind: 'none' }, size: 0 }
}

/**
 * A repeated message field. A null element is read as an empty message: etcd 3.4's gateway crashes
 * on it (the connection closes with no response), which is not worth copying.
 */
function repeatedMessages<T>(
  v: JsonValue | undefined,
  codec: BytesCodec,
  decode: (o: JsonObject, codec: BytesCodec) => Decoded<T>,
): Decoded<T[]> {
  const items = repeated(v)
  const request: T[] = new Array(items.length)
  let size = 0
  for (let i = 0; i < items.length; i++) {
    const d = decode(message(items[i]) ?? emptyObject, codec)
    request[i] = d.request
    size += messageFieldSize(d.size)
  }
  return { request, size }
}

function txnRequest(o: JsonObject, codec: BytesCodec): Decoded<TxnRequest> {
  const c = repeatedMessages(o.get('compare'), codec, compare)
  const s = repeatedMessages(o.get('success'), codec, requestOp)
  const f = repeatedMessages(o.get('failure'), codec, requestOp)
  return { request: { compare: c.request, success: s.request, failure: f.request }, size: c.size + s.size + f.size }
}

function compactionRequest(o: JsonObject): Decoded<CompactionRequest> {
  const request: CompactionRequest = { revision: int64(o.get('revision')), physical: bool(o.get('physical')) }
  return { request, size: varintFieldSize(request.revision) + (request.physical ? 2 : 0) }
}

/** Each takes the body's first JSON value (undefined for an empty body). */
export const decodeRange = (v: JsonValue | undefined, codec = base64Codec) => rangeRequest(body(v), codec)
export const decodePut = (v: JsonValue | undefined, codec = base64Codec) => putRequest(body(v), codec)
export const decodeDeleteRange = (v: JsonValue | undefined, codec = base64Codec) => deleteRangeRequest(body(v), codec)
export const decodeTxn = (v: JsonValue | undefined, codec = base64Codec) => txnRequest(body(v), codec)
export const decodeCompaction = (v: JsonValue | undefined) => compactionRequest(body(v))
