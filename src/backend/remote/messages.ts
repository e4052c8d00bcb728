/**
 * etcd's protobuf messages as they cross the gRPC boundary (proto-loader with keepCase, longs as
 * String, bytes as Buffer, defaults, oneofs): proto field names, 64-bit integers as decimal strings.
 * Only the messages the backend uses are typed; src/backend/remote/convert.ts maps them to backend.ts.
 */

/** A decoded int64/uint64. Requests may also pass a number when it is a safe integer. */
export type Int64 = string
export type Int64In = string | number

export interface PbResponseHeader {
  cluster_id: Int64
  member_id: Int64
  revision: Int64
  raft_term: Int64
}

export interface PbKeyValue {
  key: Buffer
  create_revision: Int64
  mod_revision: Int64
  version: Int64
  value: Buffer
  lease: Int64
}

export interface PbRangeRequest {
  key?: Buffer
  range_end?: Buffer
  limit: Int64In
  revision: Int64In
  sort_order: number
  sort_target: number
  serializable: boolean
  keys_only: boolean
  count_only: boolean
  min_mod_revision: Int64In
  max_mod_revision: Int64In
  min_create_revision: Int64In
  max_create_revision: Int64In
}

export interface PbRangeResponse {
  header: PbResponseHeader | null
  kvs: PbKeyValue[]
  more: boolean
  count: Int64
}

export interface PbPutRequest {
  key?: Buffer
  value?: Buffer
  lease: Int64In
  prev_kv: boolean
  ignore_value: boolean
  ignore_lease: boolean
}

export interface PbPutResponse {
  header: PbResponseHeader | null
  prev_kv: PbKeyValue | null
}

export interface PbDeleteRangeRequest {
  key?: Buffer
  range_end?: Buffer
  prev_kv: boolean
}

export interface PbDeleteRangeResponse {
  header: PbResponseHeader | null
  deleted: Int64
  prev_kvs: PbKeyValue[]
}

export type PbRequestOp =
  | { request_range: PbRangeRequest }
  | { request_put: PbPutRequest }
  | { request_delete_range: PbDeleteRangeRequest }
  | { request_txn: PbTxnRequest }
  | Record<string, never>

export interface PbResponseOp {
  response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn'
  response_range?: PbRangeResponse
  response_put?: PbPutResponse
  response_delete_range?: PbDeleteRangeResponse
  response_txn?: PbTxnResponse
}

export interface PbCompare {
  result: number
  target: number
  key?: Buffer
  range_end?: Buffer
  version?: Int64In
  create_revision?: Int64In
  mod_revision?: Int64In
  value?: Buffer
  lease?: Int64In
}

export interface PbTxnRequest {
  compare: PbCompare[]
  success: PbRequestOp[]
  failure: PbRequestOp[]
}

export interface PbTxnResponse {
  header: PbResponseHeader | null
  succeeded: boolean
  responses: PbResponseOp[]
}

export interface PbCompactionRequest {
  revision: Int64In
  physical: boolean
}

export interface PbHeaderOnly {
  header: PbResponseHeader | null
}

export interface PbLeaseGrantRequest {
  TTL: Int64In
  ID: Int64In
}

export interface PbLeaseGrantResponse {
  header: PbResponseHeader | null
  ID: Int64
  TTL: Int64
  error: string
}

export interface PbLeaseKeepAliveResponse {
  header: PbResponseHeader | null
  ID: Int64
  TTL: Int64
}

export interface PbLeaseTimeToLiveResponse {
  header: PbResponseHeader | null
  ID: Int64
  TTL: Int64
  grantedTTL: Int64
  keys: Buffer[]
}

export interface PbLeaseLeasesResponse {
  header: PbResponseHeader | null
  leases: { ID: Int64 }[]
}

export interface PbWatchCreateRequest {
  key?: Buffer
  range_end?: Buffer
  start_revision: Int64In
  progress_notify: boolean
  filters: number[]
  prev_kv: boolean
  watch_id: Int64In
  fragment: boolean
}

export type PbWatchRequest =
  | { create_request: PbWatchCreateRequest }
  | { cancel_request: { watch_id: Int64In } }
  | { progress_request: Record<string, never> }

export interface PbEvent {
  type: number
  kv: PbKeyValue | null
  prev_kv: PbKeyValue | null
}

export interface PbWatchResponse {
  header: PbResponseHeader | null
  watch_id: Int64
  created: boolean
  canceled: boolean
  compact_revision: Int64
  cancel_reason: string
  fragment: boolean
  events: PbEvent[]
}

export interface PbStatusResponse {
  header: PbResponseHeader | null
  leader: Int64
  errors: string[]
}

export interface PbFullStatusResponse extends PbStatusResponse {
  version: string
  dbSize: Int64
  raftIndex: Int64
  raftTerm: Int64
  raftAppliedIndex: Int64
  dbSizeInUse: Int64
  isLearner: boolean
}

export interface PbAlarmMember {
  memberID: Int64
  alarm: number
}

export interface PbAlarmResponse {
  alarms: PbAlarmMember[]
}

export interface PbHashResponse {
  header: PbResponseHeader | null
  hash: number
}

export interface PbSnapshotResponse {
  remaining_bytes: Int64
  blob: Buffer
}

export interface PbMember {
  ID: Int64
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

export interface PbMemberListResponse {
  header: PbResponseHeader | null
  members: PbMember[]
}

export interface PbMemberAddResponse extends PbMemberListResponse {
  member: PbMember | null
}
