/**
 * The messages of etcd's v3 JSON API as JSON Schema (the dialect of OpenAPI 3.1), written once: the
 * OpenAPI document is generated from here, and the tests validate the server's answers against it.
 * Field names are the proto names the server writes; requests also accept the lowerCamel spellings.
 */

export type Schema = Record<string, unknown>

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })
const array = (items: Schema): Schema => ({ type: 'array', items })
const obj = (properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
})

/** 64-bit integers are written as strings; requests accept strings or numbers. */
const int64: Schema = { type: ['string', 'integer'], pattern: '^-?[0-9]+$', description: '64-bit integer (written as a string)' }
const bool: Schema = { type: 'boolean' }
const str: Schema = { type: 'string' }
const int: Schema = { type: 'integer' }
const strings = array(str)
const enumOf = (...names: string[]): Schema => ({ type: ['string', 'integer'], enum: [...names, ...names.map((_, i) => i)] })

/**
 * Keys and values: padded standard base64 (etcd's wire); with `?encoding=utf8` a UTF-8 string, or the
 * marker `{"base64": "..."}` for bytes that are not valid UTF-8.
 */
const bytes = ref('Bytes')

export const messages: Record<string, Schema> = {
  Bytes: {
    description:
      'Bytes: standard base64 by default; with ?encoding=utf8 a UTF-8 string, or {"base64": "..."} for bytes that are not valid UTF-8',
    oneOf: [
      { type: 'string' },
      { type: 'object', properties: { base64: { type: 'string', contentEncoding: 'base64' } }, required: ['base64'], additionalProperties: false },
    ],
  },
  Error: obj({ error: str, message: str, code: { type: 'integer', description: 'gRPC status code' } }, "grpc-gateway's error body"),
  ResponseHeader: obj({ cluster_id: int64, member_id: int64, revision: int64, raft_term: int64 }),
  KeyValue: obj({ key: bytes, create_revision: int64, mod_revision: int64, version: int64, value: bytes, lease: int64 }),

  RangeRequest: obj({
    key: bytes,
    range_end: bytes,
    prefix: { type: 'boolean', description: 'text mode only (?encoding=utf8): range_end is the prefix end of key' },
    limit: int64,
    revision: int64,
    sort_order: enumOf('NONE', 'ASCEND', 'DESCEND'),
    sort_target: enumOf('KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'),
    serializable: bool,
    keys_only: bool,
    count_only: bool,
    min_mod_revision: int64,
    max_mod_revision: int64,
    min_create_revision: int64,
    max_create_revision: int64,
  }),
  RangeResponse: obj({ header: ref('ResponseHeader'), kvs: array(ref('KeyValue')), more: bool, count: int64 }),
  PutRequest: obj({ key: bytes, value: bytes, lease: int64, prev_kv: bool, ignore_value: bool, ignore_lease: bool }),
  PutResponse: obj({ header: ref('ResponseHeader'), prev_kv: ref('KeyValue') }),
  DeleteRangeRequest: obj({
    key: bytes,
    range_end: bytes,
    prefix: { type: 'boolean', description: 'text mode only (?encoding=utf8)' },
    prev_kv: bool,
  }),
  DeleteRangeResponse: obj({ header: ref('ResponseHeader'), deleted: int64, prev_kvs: array(ref('KeyValue')) }),
  Compare: obj({
    result: enumOf('EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'),
    target: enumOf('VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'),
    key: bytes,
    range_end: bytes,
    prefix: { type: 'boolean', description: 'text mode only (?encoding=utf8)' },
    version: int64,
    create_revision: int64,
    mod_revision: int64,
    value: bytes,
    lease: int64,
  }),
  RequestOp: obj({
    request_range: ref('RangeRequest'),
    request_put: ref('PutRequest'),
    request_delete_range: ref('DeleteRangeRequest'),
    request_txn: ref('TxnRequest'),
  }),
  ResponseOp: obj({
    response_range: ref('RangeResponse'),
    response_put: ref('PutResponse'),
    response_delete_range: ref('DeleteRangeResponse'),
    response_txn: ref('TxnResponse'),
  }),
  TxnRequest: obj({ compare: array(ref('Compare')), success: array(ref('RequestOp')), failure: array(ref('RequestOp')) }),
  TxnResponse: obj({ header: ref('ResponseHeader'), succeeded: bool, responses: array(ref('ResponseOp')) }),
  CompactionRequest: obj({ revision: int64, physical: bool }),
  CompactionResponse: obj({ header: ref('ResponseHeader') }),

  LeaseGrantRequest: obj({ TTL: int64, ID: int64 }),
  LeaseGrantResponse: obj({ header: ref('ResponseHeader'), ID: int64, TTL: int64, error: str }),
  LeaseIdRequest: obj({ ID: int64 }),
  LeaseRevokeResponse: obj({ header: ref('ResponseHeader') }),
  LeaseKeepAliveResponse: obj({ header: ref('ResponseHeader'), ID: int64, TTL: int64 }),
  LeaseTimeToLiveRequest: obj({ ID: int64, keys: bool }),
  LeaseTimeToLiveResponse: obj({ header: ref('ResponseHeader'), ID: int64, TTL: int64, grantedTTL: int64, keys: array(bytes) }),
  LeaseLeasesRequest: obj({}),
  LeaseLeasesResponse: obj({ header: ref('ResponseHeader'), leases: array(obj({ ID: int64 })) }),

  WatchRequest: obj({
    create_request: obj({
      key: bytes,
      range_end: bytes,
      prefix: { type: 'boolean', description: 'text mode only (?encoding=utf8)' },
      start_revision: int64,
      progress_notify: bool,
      filters: array(enumOf('NOPUT', 'NODELETE')),
      prev_kv: bool,
      watch_id: int64,
      fragment: bool,
    }),
    cancel_request: obj({ watch_id: int64 }),
    progress_request: obj({}),
  }),
  Event: obj({ type: { type: 'string', enum: ['PUT', 'DELETE'] }, kv: ref('KeyValue'), prev_kv: ref('KeyValue') }),
  WatchResponse: obj({
    header: ref('ResponseHeader'),
    watch_id: int64,
    created: bool,
    canceled: bool,
    compact_revision: int64,
    cancel_reason: str,
    fragment: bool,
    events: array(ref('Event')),
  }),

  Empty: obj({}),
  HeaderOnly: obj({ header: ref('ResponseHeader') }),
  AlarmMember: obj({ memberID: int64, alarm: enumOf('NONE', 'NOSPACE', 'CORRUPT') }),
  AlarmRequest: obj({ action: enumOf('GET', 'ACTIVATE', 'DEACTIVATE'), memberID: int64, alarm: enumOf('NONE', 'NOSPACE', 'CORRUPT') }),
  AlarmResponse: obj({ header: ref('ResponseHeader'), alarms: array(ref('AlarmMember')) }),
  StatusResponse: obj({
    header: ref('ResponseHeader'),
    version: str,
    dbSize: int64,
    leader: int64,
    raftIndex: int64,
    raftTerm: int64,
    raftAppliedIndex: int64,
    errors: strings,
    dbSizeInUse: int64,
    isLearner: bool,
  }),
  HashResponse: obj({ header: ref('ResponseHeader'), hash: int }),
  MoveLeaderRequest: obj({ targetID: int64 }),
  SnapshotResponse: obj({ header: ref('ResponseHeader'), remaining_bytes: int64, blob: { type: 'string', contentEncoding: 'base64' } }),
  Member: obj({ ID: int64, name: str, peerURLs: strings, clientURLs: strings, isLearner: bool }),
  MemberAddRequest: obj({ peerURLs: strings, isLearner: bool }),
  MemberIdRequest: obj({ ID: int64, peerURLs: strings }),
  MemberListResponse: obj({ header: ref('ResponseHeader'), members: array(ref('Member')) }),
  MemberResponse: obj({ header: ref('ResponseHeader'), member: ref('Member'), members: array(ref('Member')) }),
  Health: obj({ health: { type: 'string', enum: ['true', 'false'] }, reason: str }),
  Version: obj({ etcdserver: str, etcdcluster: str, etcdgw: str }),
}

/** A route of the API: an RPC (one message each way), a stream of messages, or a plain GET. */
export interface Operation {
  method: 'get' | 'post'
  path: string
  summary: string
  request?: string
  response?: string
  /** A gRPC stream: request messages in the body or WebSocket frames, `{"result": response}` lines out. */
  stream?: boolean
  /** Answers text/plain. */
  text?: boolean
  /** Served at the same path by GET with a WebSocket upgrade too. */
  websocket?: boolean
}

const rpc = (path: string, summary: string, request: string, response: string): Operation => ({
  method: 'post',
  path,
  summary,
  request,
  response,
})

export const operations: Operation[] = [
  rpc('/v3/kv/range', 'Gets the keys in a range', 'RangeRequest', 'RangeResponse'),
  rpc('/v3/kv/put', 'Puts a key', 'PutRequest', 'PutResponse'),
  rpc('/v3/kv/deleterange', 'Deletes the keys in a range', 'DeleteRangeRequest', 'DeleteRangeResponse'),
  rpc('/v3/kv/txn', 'Compares, then runs the success or failure ops, atomically', 'TxnRequest', 'TxnResponse'),
  rpc('/v3/kv/compaction', 'Compacts the history up to a revision', 'CompactionRequest', 'CompactionResponse'),
  rpc('/v3/lease/grant', 'Grants a lease', 'LeaseGrantRequest', 'LeaseGrantResponse'),
  rpc('/v3/lease/revoke', 'Revokes a lease and deletes its keys', 'LeaseIdRequest', 'LeaseRevokeResponse'),
  rpc('/v3/kv/lease/revoke', 'etcd 3.4 alias of /v3/lease/revoke', 'LeaseIdRequest', 'LeaseRevokeResponse'),
  rpc('/v3/lease/timetolive', "A lease's remaining time (and keys)", 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse'),
  rpc('/v3/kv/lease/timetolive', 'etcd 3.4 alias of /v3/lease/timetolive', 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse'),
  rpc('/v3/lease/leases', 'Lists the leases', 'LeaseLeasesRequest', 'LeaseLeasesResponse'),
  rpc('/v3/kv/lease/leases', 'etcd 3.4 alias of /v3/lease/leases', 'LeaseLeasesRequest', 'LeaseLeasesResponse'),
  {
    method: 'post',
    path: '/v3/lease/keepalive',
    summary: 'Keeps leases alive (stream; also GET with a WebSocket upgrade)',
    request: 'LeaseIdRequest',
    response: 'LeaseKeepAliveResponse',
    stream: true,
    websocket: true,
  },
  {
    method: 'post',
    path: '/v3/watch',
    summary: 'Watches keys (stream; also GET with a WebSocket upgrade); ?encoding=utf8 works on both',
    request: 'WatchRequest',
    response: 'WatchResponse',
    stream: true,
    websocket: true,
  },
  rpc('/v3/maintenance/alarm', 'Gets, activates or deactivates alarms', 'AlarmRequest', 'AlarmResponse'),
  rpc('/v3/maintenance/status', "The member's status", 'Empty', 'StatusResponse'),
  rpc('/v3/maintenance/defragment', 'Defragments the store', 'Empty', 'HeaderOnly'),
  rpc('/v3/maintenance/hash', 'A hash of the store', 'Empty', 'HashResponse'),
  rpc('/v3/maintenance/transfer-leadership', 'Moves the raft leadership', 'MoveLeaderRequest', 'HeaderOnly'),
  { method: 'post', path: '/v3/maintenance/snapshot', summary: 'Streams a snapshot of the store', request: 'Empty', response: 'SnapshotResponse', stream: true },
  rpc('/v3/cluster/member/list', 'Lists the members', 'Empty', 'MemberListResponse'),
  rpc('/v3/cluster/member/add', 'Adds a member', 'MemberAddRequest', 'MemberResponse'),
  rpc('/v3/cluster/member/remove', 'Removes a member', 'MemberIdRequest', 'MemberListResponse'),
  rpc('/v3/cluster/member/update', "Updates a member's peer URLs", 'MemberIdRequest', 'MemberListResponse'),
  rpc('/v3/cluster/member/promote', 'Promotes a learner', 'MemberIdRequest', 'MemberListResponse'),
  { method: 'get', path: '/health', summary: 'Health: a linearizable read and no alarm', response: 'Health' },
  { method: 'get', path: '/livez', summary: 'Liveness (text/plain "ok")', text: true },
  { method: 'get', path: '/readyz', summary: 'Readiness (text/plain "ok")', text: true },
  { method: 'get', path: '/version', summary: 'Server and cluster versions', response: 'Version' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', text: true },
]
