/**
 * Internal responses → compact JSON text exactly as etcd's gateway emits it (jsonpb with OrigName,
 * EmitDefaults off): proto field names in proto field order, 64-bit integers as strings, bytes as
 * padded standard base64, zero values and empty lists omitted, present sub-messages always written
 * (an all-zero header is `{}`, as in a nested txn response).
 */
import type {
  CompactionResponse,
  DeleteRangeResponse,
  KeyValue,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnResponse,
} from '../../backend/backend.js'
import { goJsonString } from '../go-text.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'

let idsClusterId = -1n
let idsMemberId = -1n
let idsText = ''

/** The cluster_id/member_id part; the pair is the same for every response of a server, so it is cached. */
function idsOf(h: ResponseHeader): string {
  if (h.clusterId !== idsClusterId || h.memberId !== idsMemberId) {
    let s = ''
    if (h.clusterId !== 0n) s = `"cluster_id":"${BigInt.asUintN(64, h.clusterId)}"`
    if (h.memberId !== 0n) s += `${s ? ',' : ''}"member_id":"${BigInt.asUintN(64, h.memberId)}"`
    idsClusterId = h.clusterId
    idsMemberId = h.memberId
    idsText = s
  }
  return idsText
}

export function encodeHeader(h: ResponseHeader): string {
  let s = idsOf(h)
  if (h.revision !== 0) s += `${s ? ',' : ''}"revision":"${h.revision}"`
  if (h.raftTerm !== 0) s += `${s ? ',' : ''}"raft_term":"${h.raftTerm}"`
  return '{' + s + '}'
}

export function encodeKeyValue(kv: KeyValue, codec: BytesCodec = base64Codec): string {
  let s = ''
  if (kv.key.length !== 0) s = '"key":' + codec.write(kv.key)
  if (kv.createRevision !== 0) s += `${s ? ',' : ''}"create_revision":"${kv.createRevision}"`
  if (kv.modRevision !== 0) s += `${s ? ',' : ''}"mod_revision":"${kv.modRevision}"`
  if (kv.version !== 0) s += `${s ? ',' : ''}"version":"${kv.version}"`
  if (kv.value.length !== 0) s += `${s ? ',' : ''}"value":` + codec.write(kv.value)
  if (kv.lease !== 0n) s += `${s ? ',' : ''}"lease":"${kv.lease}"`
  return '{' + s + '}'
}

function keyValues(kvs: KeyValue[], codec: BytesCodec): string {
  let s = '['
  for (let i = 0; i < kvs.length; i++) s += (i === 0 ? '' : ',') + encodeKeyValue(kvs[i]!, codec)
  return s + ']'
}

export function encodeRangeResponse(r: RangeResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.kvs.length !== 0) s += ',"kvs":' + keyValues(r.kvs, codec)
  if (r.more) s += ',"more":true'
  if (r.count !== 0) s += `,"count":"${r.count}"`
  return s + '}'
}

export function encodePutResponse(r: PutResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.prevKv) s += ',"prev_kv":' + encodeKeyValue(r.prevKv, codec)
  return s + '}'
}

export function encodeDeleteRangeResponse(r: DeleteRangeResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.deleted !== 0) s += `,"deleted":"${r.deleted}"`
  if (r.prevKvs.length !== 0) s += ',"prev_kvs":' + keyValues(r.prevKvs, codec)
  return s + '}'
}

function responseOp(op: ResponseOp, codec: BytesCodec): string {
  switch (op.kind) {
    case 'range':
      return '{"response_range":' + encodeRangeResponse(op.response, codec) + '}'
    case 'put':
      return '{"response_put":' + encodePutResponse(op.response, codec) + '}'
    case 'deleteRange':
      return '{"response_delete_range":' + encodeDeleteRangeResponse(op.response, codec) + '}'
    case 'txn':
      return '{"response_txn":' + encodeTxnResponse(op.response, codec) + '}'
  }
}

export function encodeTxnResponse(r: TxnResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.succeeded) s += ',"succeeded":true'
  if (r.responses.length !== 0) {
    s += ',"responses":['
    for (let i = 0; i < r.responses.length; i++) s += (i === 0 ? '' : ',') + responseOp(r.responses[i]!, codec)
    s += ']'
  }
  return s + '}'
}

export function encodeCompactionResponse(r: CompactionResponse): string {
  return '{"header":' + encodeHeader(r.header) + '}'
}

/** grpc-gateway v1's error body; `error` and `message` carry the same text. */
export function encodeError(message: string, code: number): string {
  const m = goJsonString(message)
  return `{"error":${m},"message":${m},"code":${code}}`
}
