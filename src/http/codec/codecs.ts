/**
 * The JSON codec of every route, compiled once from the message types of the routes in
 * api/messages.ts: the same description the OpenAPI document is generated from. The internal types
 * named here are what those generated functions build and read (tests hold them to it).
 */
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  MemberAddResponse,
  MemberListResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  SnapshotChunk,
  StatusResponse,
  TxnRequest,
  TxnResponse,
  WatchRequest,
  WatchResponse,
} from '../../backend/backend.js'
import { httpSchemas, operations } from '../api/messages.js'
import { compileDecoders, type Decoder } from './compile-decoder.js'
import { compileEncoders, type Encoder } from './compile-encoder.js'

/** Requests the HTTP layer reads that have no type in backend.ts (the backend takes their values). */
export interface LeaseIdRequest {
  id: bigint
}
export interface MoveLeaderRequest {
  targetId: bigint
}
export interface MemberAddRequest {
  peerUrls: string[]
  isLearner: boolean
}
export interface MemberIdRequest {
  id: bigint
}
export interface MemberUpdateRequest extends MemberIdRequest {
  peerUrls: string[]
}
export type EmptyRequest = Record<string, never>
/** A response etcd leaves unset but for its (absent) header. */
export type EmptyResponse = Record<string, never>

// the HTTP API's own messages (Health, Version) are written by their routes
const isProto = (name: string | undefined): name is string => name !== undefined && !(name in httpSchemas)
const requestNames = new Set(operations.map((op) => op.request).filter(isProto))
const responseNames = new Set(operations.map((op) => op.response).filter(isProto))

const compiledDecoders = compileDecoders([...requestNames])
const compiledEncoders = compileEncoders([...responseNames])

function decoder<T>(name: string): Decoder<T> {
  const d = compiledDecoders[name]
  if (!d) throw new Error(`${name} is not the request of any route in api/messages.ts`)
  return d as Decoder<T>
}

function encoder<T>(name: string): Encoder<T> {
  const e = compiledEncoders[name]
  if (!e) throw new Error(`${name} is not the response of any route in api/messages.ts`)
  return e as Encoder<T>
}

export const decoders = {
  RangeRequest: decoder<RangeRequest>('RangeRequest'),
  PutRequest: decoder<PutRequest>('PutRequest'),
  DeleteRangeRequest: decoder<DeleteRangeRequest>('DeleteRangeRequest'),
  TxnRequest: decoder<TxnRequest>('TxnRequest'),
  CompactionRequest: decoder<CompactionRequest>('CompactionRequest'),
  LeaseGrantRequest: decoder<LeaseGrantRequest>('LeaseGrantRequest'),
  LeaseRevokeRequest: decoder<LeaseIdRequest>('LeaseRevokeRequest'),
  LeaseKeepAliveRequest: decoder<LeaseIdRequest>('LeaseKeepAliveRequest'),
  LeaseTimeToLiveRequest: decoder<LeaseTimeToLiveRequest>('LeaseTimeToLiveRequest'),
  LeaseLeasesRequest: decoder<EmptyRequest>('LeaseLeasesRequest'),
  /** `kind: 'none'` when no request is set (`{}`, an unknown field), which etcd ignores. */
  WatchRequest: decoder<WatchRequest | { kind: 'none' }>('WatchRequest'),
  AlarmRequest: decoder<AlarmRequest>('AlarmRequest'),
  StatusRequest: decoder<EmptyRequest>('StatusRequest'),
  DefragmentRequest: decoder<EmptyRequest>('DefragmentRequest'),
  HashRequest: decoder<EmptyRequest>('HashRequest'),
  MoveLeaderRequest: decoder<MoveLeaderRequest>('MoveLeaderRequest'),
  SnapshotRequest: decoder<EmptyRequest>('SnapshotRequest'),
  MemberListRequest: decoder<EmptyRequest>('MemberListRequest'),
  MemberAddRequest: decoder<MemberAddRequest>('MemberAddRequest'),
  MemberRemoveRequest: decoder<MemberIdRequest>('MemberRemoveRequest'),
  MemberUpdateRequest: decoder<MemberUpdateRequest>('MemberUpdateRequest'),
  MemberPromoteRequest: decoder<MemberIdRequest>('MemberPromoteRequest'),
}

export const encoders = {
  RangeResponse: encoder<RangeResponse>('RangeResponse'),
  PutResponse: encoder<PutResponse>('PutResponse'),
  DeleteRangeResponse: encoder<DeleteRangeResponse>('DeleteRangeResponse'),
  TxnResponse: encoder<TxnResponse>('TxnResponse'),
  CompactionResponse: encoder<CompactionResponse>('CompactionResponse'),
  LeaseGrantResponse: encoder<LeaseGrantResponse>('LeaseGrantResponse'),
  LeaseRevokeResponse: encoder<LeaseRevokeResponse>('LeaseRevokeResponse'),
  LeaseKeepAliveResponse: encoder<LeaseKeepAliveResponse>('LeaseKeepAliveResponse'),
  LeaseTimeToLiveResponse: encoder<LeaseTimeToLiveResponse>('LeaseTimeToLiveResponse'),
  LeaseLeasesResponse: encoder<LeaseLeasesResponse>('LeaseLeasesResponse'),
  WatchResponse: encoder<WatchResponse>('WatchResponse'),
  /** etcd's gateway writes no header for alarms, defragment and transfer-leadership. */
  AlarmResponse: encoder<AlarmResponse>('AlarmResponse'),
  StatusResponse: encoder<StatusResponse>('StatusResponse'),
  DefragmentResponse: encoder<EmptyResponse>('DefragmentResponse'),
  HashResponse: encoder<HashResponse>('HashResponse'),
  MoveLeaderResponse: encoder<EmptyResponse>('MoveLeaderResponse'),
  /** One snapshot message, without the stream's `{"result":…}` wrapper. */
  SnapshotResponse: encoder<SnapshotChunk>('SnapshotResponse'),
  MemberListResponse: encoder<MemberListResponse>('MemberListResponse'),
  MemberAddResponse: encoder<MemberAddResponse>('MemberAddResponse'),
  MemberRemoveResponse: encoder<MemberListResponse>('MemberRemoveResponse'),
  MemberUpdateResponse: encoder<MemberListResponse>('MemberUpdateResponse'),
  MemberPromoteResponse: encoder<MemberListResponse>('MemberPromoteResponse'),
}
