/**
 * What the .proto files (src/proto/) do not say about etcd's JSON API: how etcdgw holds each message
 * inside, and the messages of HTTP itself. Everything else about a message (its fields, their order,
 * numbers, types, enums, oneofs) comes from the .proto; message-types.ts joins the two, and the JSON
 * codec, the proto sizes of requests and the OpenAPI document are all made from that one description.
 */

export type Schema = Record<string, unknown>

/**
 * 64-bit IDs that use all their bits (leases, members, clusters) are held as bigint; every other int64
 * or uint64 (revisions, counts, sizes, TTLs, terms, indexes) as a number.
 */
export const bigintFields: ReadonlySet<string> = new Set(['ID', 'memberID', 'targetID', 'leader', 'lease', 'cluster_id', 'member_id'])

/** A oneof held as `{ kind, [payload]: member }`, e.g. RequestOp → `{ kind: 'put', request: PutRequest }`. */
export interface UnionNote {
  payload: string
  kinds: Record<string, string>
}

export interface MessageNote {
  description?: string
  /**
   * key and range_end are read together, and with ?encoding=utf8 `"prefix": true` stands for a
   * range_end (the key's prefix end).
   */
  keyRange?: true
  unions?: Record<string, UnionNote>
  /**
   * A oneof whose members are held flat, each under its own name; the member that counts (for the
   * request's proto size) is the one an enum field names, as Compare's `target` names the member of
   * `target_union`.
   */
  selectedBy?: Record<string, string>
  /** bytes fields that stay base64 in text mode (snapshot data). */
  binary?: string[]
}

export const notes: Record<string, MessageNote> = {
  RangeRequest: { keyRange: true },
  DeleteRangeRequest: { keyRange: true },
  Compare: { keyRange: true, selectedBy: { target_union: 'target' } },
  WatchCreateRequest: { keyRange: true },
  RequestOp: {
    unions: {
      request: {
        payload: 'request',
        kinds: { request_range: 'range', request_put: 'put', request_delete_range: 'deleteRange', request_txn: 'txn' },
      },
    },
  },
  ResponseOp: {
    unions: {
      response: {
        payload: 'response',
        kinds: { response_range: 'range', response_put: 'put', response_delete_range: 'deleteRange', response_txn: 'txn' },
      },
    },
  },
  WatchRequest: {
    unions: {
      request_union: {
        payload: 'request',
        kinds: { create_request: 'create', cancel_request: 'cancel', progress_request: 'progress' },
      },
    },
  },
  SnapshotResponse: { binary: ['blob'] },
  ResponseHeader: { description: 'cluster_id, member_id and raft_term identify the answering member; revision is the store revision the answer saw' },
  AlarmResponse: { description: "etcd's gateway writes no header here (etcd leaves it unset); likewise for defragment and transfer-leadership" },
}

/** Messages of the HTTP API that are not etcd protobuf messages. */
export const httpSchemas: Record<string, Schema> = {
  Bytes: {
    description:
      'Bytes: standard base64 by default; with ?encoding=utf8 a UTF-8 string, or {"base64": "..."} for bytes that are not valid UTF-8',
    oneOf: [
      { type: 'string' },
      { type: 'object', properties: { base64: { type: 'string', contentEncoding: 'base64' } }, required: ['base64'], additionalProperties: false },
    ],
  },
  Error: {
    type: 'object',
    description: "grpc-gateway's error body",
    properties: { error: { type: 'string' }, message: { type: 'string' }, code: { type: 'integer', description: 'gRPC status code' } },
  },
  Health: {
    type: 'object',
    properties: { health: { type: 'string', enum: ['true', 'false'] }, reason: { type: 'string' } },
  },
  Version: {
    type: 'object',
    properties: { etcdserver: { type: 'string' }, etcdcluster: { type: 'string' }, etcdgw: { type: 'string' } },
  },
  BackupList: {
    type: 'object',
    properties: {
      backups: {
        type: 'array',
        description: 'oldest first, as `etcdgw backup list -w json`',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            time: { type: 'string', format: 'date-time' },
            where: { type: 'string', enum: ['dir', 's3', 'both'] },
            paths: { type: 'array', items: { type: 'string' } },
            fileBytes: { type: 'integer' },
            verified: { type: 'boolean', description: 'every copy has its verification record' },
            revision: { type: 'integer' },
            totalKey: { type: 'integer' },
            hash: { type: 'integer', description: 'etcdctl snapshot status hash' },
            sha256: { type: 'string' },
          },
        },
      },
    },
  },
  BackupVerifyRequest: {
    type: 'object',
    properties: { name: { type: 'string', description: 'a backup name, or latest (the newest verified backup)' } },
    required: ['name'],
  },
  BackupVerifyResponse: {
    type: 'object',
    properties: {
      copies: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            store: { type: 'string' },
            revision: { type: 'integer' },
            totalKey: { type: 'integer' },
            totalSize: { type: 'integer' },
            hash: { type: 'integer' },
            sha256: { type: 'string' },
            fileBytes: { type: 'integer' },
          },
        },
      },
    },
  },
}

/**
 * A route of the API: an RPC (one message each way), a stream of messages, or a plain GET. Every RPC
 * (POST) is served by GET with a WebSocket upgrade at its path too, as etcd's gateway serves them.
 */
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
  /** What it answers, beyond etcd, to a request that accepts application/octet-stream. */
  octetStream?: string
}

const rpc = <P extends string, Req extends string, Res extends string>(path: P, summary: string, request: Req, response: Res) => ({
  method: 'post' as const,
  path,
  summary,
  request,
  response,
})

const routeTable = [
  rpc('/v3/kv/range', 'Gets the keys in a range', 'RangeRequest', 'RangeResponse'),
  rpc('/v3/kv/put', 'Puts a key', 'PutRequest', 'PutResponse'),
  rpc('/v3/kv/deleterange', 'Deletes the keys in a range', 'DeleteRangeRequest', 'DeleteRangeResponse'),
  rpc('/v3/kv/txn', 'Compares, then runs the success or failure ops, atomically', 'TxnRequest', 'TxnResponse'),
  rpc('/v3/kv/compaction', 'Compacts the history up to a revision', 'CompactionRequest', 'CompactionResponse'),
  rpc('/v3/lease/grant', 'Grants a lease', 'LeaseGrantRequest', 'LeaseGrantResponse'),
  rpc('/v3/lease/revoke', 'Revokes a lease and deletes its keys', 'LeaseRevokeRequest', 'LeaseRevokeResponse'),
  rpc('/v3/kv/lease/revoke', 'etcd 3.4 alias of /v3/lease/revoke', 'LeaseRevokeRequest', 'LeaseRevokeResponse'),
  rpc('/v3/lease/timetolive', "A lease's remaining time (and keys)", 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse'),
  rpc('/v3/kv/lease/timetolive', 'etcd 3.4 alias of /v3/lease/timetolive', 'LeaseTimeToLiveRequest', 'LeaseTimeToLiveResponse'),
  rpc('/v3/lease/leases', 'Lists the leases', 'LeaseLeasesRequest', 'LeaseLeasesResponse'),
  rpc('/v3/kv/lease/leases', 'etcd 3.4 alias of /v3/lease/leases', 'LeaseLeasesRequest', 'LeaseLeasesResponse'),
  {
    method: 'post',
    path: '/v3/lease/keepalive',
    summary: 'Keeps leases alive (stream)',
    request: 'LeaseKeepAliveRequest',
    response: 'LeaseKeepAliveResponse',
    stream: true,
  },
  {
    method: 'post',
    path: '/v3/watch',
    summary: 'Watches keys (stream)',
    request: 'WatchRequest',
    response: 'WatchResponse',
    stream: true,
  },
  rpc('/v3/maintenance/alarm', 'Gets, activates or deactivates alarms', 'AlarmRequest', 'AlarmResponse'),
  rpc('/v3/maintenance/status', "The member's status", 'StatusRequest', 'StatusResponse'),
  rpc('/v3/maintenance/defragment', 'Defragments the store', 'DefragmentRequest', 'DefragmentResponse'),
  rpc('/v3/maintenance/hash', 'A hash of the store', 'HashRequest', 'HashResponse'),
  rpc('/v3/maintenance/transfer-leadership', 'Moves the raft leadership', 'MoveLeaderRequest', 'MoveLeaderResponse'),
  {
    method: 'post',
    path: '/v3/maintenance/snapshot',
    summary: 'Streams a snapshot of the store',
    request: 'SnapshotRequest',
    response: 'SnapshotResponse',
    stream: true,
    octetStream:
      "the snapshot file itself, as etcdctl snapshot save writes it: the db's bytes, then their sha256 (Content-Length set; a stream that fails after its start is cut short)",
  },
  rpc('/v3/cluster/member/list', 'Lists the members', 'MemberListRequest', 'MemberListResponse'),
  rpc('/v3/cluster/member/add', 'Adds a member', 'MemberAddRequest', 'MemberAddResponse'),
  rpc('/v3/cluster/member/remove', 'Removes a member', 'MemberRemoveRequest', 'MemberRemoveResponse'),
  rpc('/v3/cluster/member/update', "Updates a member's peer URLs", 'MemberUpdateRequest', 'MemberUpdateResponse'),
  rpc('/v3/cluster/member/promote', 'Promotes a learner', 'MemberPromoteRequest', 'MemberPromoteResponse'),
  rpc('/v3/auth/enable', 'Enables authentication (root only once enabled)', 'AuthEnableRequest', 'AuthEnableResponse'),
  rpc('/v3/auth/disable', 'Disables authentication (root only)', 'AuthDisableRequest', 'AuthDisableResponse'),
  rpc('/v3/auth/authenticate', "A token for a user's name and password", 'AuthenticateRequest', 'AuthenticateResponse'),
  rpc('/v3/auth/user/add', 'Adds a user', 'AuthUserAddRequest', 'AuthUserAddResponse'),
  rpc('/v3/auth/user/get', "A user's roles", 'AuthUserGetRequest', 'AuthUserGetResponse'),
  rpc('/v3/auth/user/list', 'Lists the users', 'AuthUserListRequest', 'AuthUserListResponse'),
  rpc('/v3/auth/user/delete', 'Deletes a user', 'AuthUserDeleteRequest', 'AuthUserDeleteResponse'),
  rpc('/v3/auth/user/changepw', "Changes a user's password", 'AuthUserChangePasswordRequest', 'AuthUserChangePasswordResponse'),
  rpc('/v3/auth/user/grant', 'Grants a role to a user', 'AuthUserGrantRoleRequest', 'AuthUserGrantRoleResponse'),
  rpc('/v3/auth/user/revoke', 'Revokes a role from a user', 'AuthUserRevokeRoleRequest', 'AuthUserRevokeRoleResponse'),
  rpc('/v3/auth/role/add', 'Adds a role', 'AuthRoleAddRequest', 'AuthRoleAddResponse'),
  rpc('/v3/auth/role/get', "A role's permissions", 'AuthRoleGetRequest', 'AuthRoleGetResponse'),
  rpc('/v3/auth/role/list', 'Lists the roles', 'AuthRoleListRequest', 'AuthRoleListResponse'),
  rpc('/v3/auth/role/delete', 'Deletes a role', 'AuthRoleDeleteRequest', 'AuthRoleDeleteResponse'),
  rpc('/v3/auth/role/grant', 'Grants a key-range permission to a role', 'AuthRoleGrantPermissionRequest', 'AuthRoleGrantPermissionResponse'),
  rpc('/v3/auth/role/revoke', 'Revokes a key-range permission from a role', 'AuthRoleRevokePermissionRequest', 'AuthRoleRevokePermissionResponse'),
  { method: 'get', path: '/health', summary: 'Health: a linearizable read and no alarm', response: 'Health' },
  { method: 'get', path: '/livez', summary: 'Liveness (text/plain "ok")', text: true },
  { method: 'get', path: '/readyz', summary: 'Readiness (text/plain "ok")', text: true },
  { method: 'get', path: '/version', summary: 'Server and cluster versions', response: 'Version' },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', text: true },
] as const satisfies readonly Operation[]

/** Every route of the API, once: the server registers, the codec compiles and OpenAPI describes these. */
export const operations: readonly Operation[] = routeTable

/**
 * etcdgw's own JSON routes, beside etcd's: OpenAPI describes them with the schemas above; each is served by
 * its route file. The backup routes answer while `etcdgw serve` runs with --backup-schedule.
 */
export const ownOperations: readonly Operation[] = [
  { method: 'get', path: '/backups', summary: "The scheduled backups (serve --backup-schedule), as `etcdgw backup list -w json`", response: 'BackupList' },
  {
    method: 'post',
    path: '/backups/verify',
    summary: 'Verifies a backup again (every copy: trailer, every page, every key) and compares it with its record',
    request: 'BackupVerifyRequest',
    response: 'BackupVerifyResponse',
  },
]
/** The routes with their paths and message names as types. */
export type RouteOperation = (typeof routeTable)[number]

export function operationAt(path: string): Operation {
  const op = operations.find((o) => o.path === path)
  if (!op) throw new Error(`${path} is not a route in api/messages.ts`)
  return op
}
