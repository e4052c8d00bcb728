/**
 * The one interface between the HTTP layer and storage, shaped after etcd's gRPC services.
 * Internal types only: keys and values are Buffers, revisions are numbers, 64-bit IDs are bigints
 * (every bit survives). Field names follow etcd's proto messages in camelCase. Wire details
 * (base64, int64 strings, omitted zero values) live in src/http/codec.ts and nowhere else.
 * Every method rejects with an EtcdError (src/errors.ts) on failure.
 */
import type { Registry } from 'prom-client'

export interface ResponseHeader {
  clusterId: bigint
  memberId: bigint
  /** 0 means "absent" (cluster RPCs, some watch responses). */
  revision: number
  raftTerm: number
}

export interface KeyValue {
  key: Buffer
  createRevision: number
  modRevision: number
  version: number
  value: Buffer
  lease: bigint
}

export enum SortOrder {
  NONE = 0,
  ASCEND = 1,
  DESCEND = 2,
}

export enum SortTarget {
  KEY = 0,
  VERSION = 1,
  CREATE = 2,
  MOD = 3,
  VALUE = 4,
}

export interface RangeRequest {
  key: Buffer
  rangeEnd: Buffer
  limit: number
  revision: number
  sortOrder: SortOrder
  sortTarget: SortTarget
  serializable: boolean
  keysOnly: boolean
  countOnly: boolean
  minModRevision: number
  maxModRevision: number
  minCreateRevision: number
  maxCreateRevision: number
}

export interface RangeResponse {
  header: ResponseHeader
  kvs: KeyValue[]
  more: boolean
  count: number
}

export interface PutRequest {
  key: Buffer
  value: Buffer
  lease: bigint
  prevKv: boolean
  ignoreValue: boolean
  ignoreLease: boolean
}

export interface PutResponse {
  header: ResponseHeader
  prevKv?: KeyValue
}

export interface DeleteRangeRequest {
  key: Buffer
  rangeEnd: Buffer
  prevKv: boolean
}

export interface DeleteRangeResponse {
  header: ResponseHeader
  deleted: number
  prevKvs: KeyValue[]
}

export enum CompareResult {
  EQUAL = 0,
  GREATER = 1,
  LESS = 2,
  NOT_EQUAL = 3,
}

export enum CompareTarget {
  VERSION = 0,
  CREATE = 1,
  MOD = 2,
  VALUE = 3,
  LEASE = 4,
}

/** A txn comparison. Only the field named by `target` is read (etcd's oneof target_union). */
export interface Compare {
  result: CompareResult
  target: CompareTarget
  key: Buffer
  rangeEnd: Buffer
  version: number
  createRevision: number
  modRevision: number
  value: Buffer
  lease: bigint
}

/** etcd's RequestOp oneof; `{}` (no request set) is represented as `{ kind: 'none' }`. */
export type RequestOp =
  | { kind: 'range'; request: RangeRequest }
  | { kind: 'put'; request: PutRequest }
  | { kind: 'deleteRange'; request: DeleteRangeRequest }
  | { kind: 'txn'; request: TxnRequest }
  | { kind: 'none' }

export type ResponseOp =
  | { kind: 'range'; response: RangeResponse }
  | { kind: 'put'; response: PutResponse }
  | { kind: 'deleteRange'; response: DeleteRangeResponse }
  | { kind: 'txn'; response: TxnResponse }

export interface TxnRequest {
  compare: Compare[]
  success: RequestOp[]
  failure: RequestOp[]
}

export interface TxnResponse {
  header: ResponseHeader
  succeeded: boolean
  responses: ResponseOp[]
}

export interface CompactionRequest {
  revision: number
  physical: boolean
}

export interface CompactionResponse {
  header: ResponseHeader
}

/** etcd's KV service. */
export interface KV {
  /** Keys in [key, rangeEnd) as of `revision` (current when <= 0); count is taken before limit and filters. */
  range(req: RangeRequest): Promise<RangeResponse>
  /** Writes one key at a new revision; resolves only once the write is durable. */
  put(req: PutRequest): Promise<PutResponse>
  /** Deletes the keys in the range at one new revision (none if nothing matched); durable on resolve. */
  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse>
  /** Evaluates every compare against the state before the txn, then runs one branch atomically. */
  txn(req: TxnRequest): Promise<TxnResponse>
  /** Discards history below `revision`; reads at or above it keep working. */
  compact(req: CompactionRequest): Promise<CompactionResponse>
}

export interface LeaseGrantRequest {
  /** Seconds; below the minimum it becomes the minimum. */
  ttl: number
  /** 0 lets the server choose. */
  id: bigint
}

export interface LeaseGrantResponse {
  header: ResponseHeader
  id: bigint
  ttl: number
}

export interface LeaseRevokeResponse {
  header: ResponseHeader
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader
  id: bigint
  /** The granted TTL; 0 when the lease does not exist. */
  ttl: number
}

export interface LeaseTimeToLiveRequest {
  id: bigint
  keys: boolean
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader
  id: bigint
  /** Remaining seconds; -1 when the lease does not exist. */
  ttl: number
  grantedTtl: number
  keys: Buffer[]
}

export interface LeaseStatus {
  id: bigint
}

export interface LeaseLeasesResponse {
  header: ResponseHeader
  leases: LeaseStatus[]
}

/** etcd's Lease service; the keepalive stream is one keepAlive call per request message. */
export interface Lease {
  /** Creates a lease; rejects with etcd's errors for an existing ID or a too large TTL. */
  grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse>
  /** Deletes the lease and, in one revision, every key attached to it. */
  revoke(id: bigint): Promise<LeaseRevokeResponse>
  /** Restarts the lease's countdown; an unknown lease answers TTL 0 (no error). */
  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse>
  /** Remaining and granted TTL (and keys); an unknown lease answers TTL -1 (no error). */
  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>
  leases(): Promise<LeaseLeasesResponse>
}

export enum WatchFilter {
  NOPUT = 0,
  NODELETE = 1,
}

export interface WatchCreateRequest {
  key: Buffer
  rangeEnd: Buffer
  /** 0 = from the next revision. */
  startRevision: number
  progressNotify: boolean
  filters: WatchFilter[]
  prevKv: boolean
  /** 0 = let the stream choose. */
  watchId: number
  fragment: boolean
}

export interface WatchCancelRequest {
  watchId: number
}

/** etcd's WatchRequest oneof (a request with none set is ignored before it reaches a backend). */
export type WatchRequest =
  | { kind: 'create'; request: WatchCreateRequest }
  | { kind: 'cancel'; request: WatchCancelRequest }
  | { kind: 'progress'; request: Record<string, never> }

export enum EventType {
  PUT = 0,
  DELETE = 1,
}

export interface Event {
  type: EventType
  /** For DELETE only key and modRevision are set. */
  kv: KeyValue
  prevKv?: KeyValue
}

export interface WatchResponse {
  header: ResponseHeader
  watchId: number
  created: boolean
  canceled: boolean
  compactRevision: number
  cancelReason: string
  fragment: boolean
  /** Shared between the watchers of one revision that see the same events: treat as read-only. */
  events: readonly Event[]
}

/** One client watch stream (etcd's Watch RPC): watch IDs are per stream. */
export interface WatchStream {
  send(req: WatchRequest): void
  /** The stream's watches that are created and not canceled. */
  readonly liveWatchIds: ReadonlySet<number>
  /** Cancels every watch of the stream; no more responses are delivered. */
  close(): void
}

export interface Watch {
  /** Opens a stream; responses arrive through `onResponse` in the order etcd sends them. */
  open(onResponse: (resp: WatchResponse) => void): WatchStream
}

/** The services act for the server itself (health, metrics, backups) and check nothing; callers' requests go through as(). */
export interface Backend {
  readonly kv: KV
  readonly lease: Lease
  readonly watch: Watch
  readonly maintenance: Maintenance
  readonly cluster: Cluster
  readonly auth: Auth
  /**
   * This backend acting for the caller with these credentials: the embedded store checks the caller's
   * permissions on every call as etcd does, the remote backend sends the caller's token to etcd. Throws
   * when it cannot act for them (remote: a client certificate's identity without a token, while etcd has
   * auth enabled).
   */
  as(credentials: Credentials): Backend
  /** The etcd endpoints behind a remote backend and how the last probe found each (absent when embedded). */
  upstreams?(): UpstreamEndpoint[]
  /** The backend's own metric families: the embedded store's etcd member families, the remote backend's etcdgw_upstream_*. */
  readonly metrics?: Registry
  /** Stops accepting work, waits for in-flight writes to become durable, releases files. */
  close(): Promise<void>
}

export enum AlarmType {
  NONE = 0,
  NOSPACE = 1,
  CORRUPT = 2,
}

export enum AlarmAction {
  GET = 0,
  ACTIVATE = 1,
  DEACTIVATE = 2,
}

export interface AlarmMember {
  memberId: bigint
  alarm: AlarmType
}

export interface AlarmRequest {
  action: AlarmAction
  /** For GET: 0 lists every member's alarms (etcd ignores it); for the others the member raising it. */
  memberId: bigint
  /** For GET: NONE lists every type, otherwise only that type. */
  alarm: AlarmType
}

/** etcd's Alarm response has no header. */
export interface AlarmResponse {
  alarms: AlarmMember[]
}

export interface StatusResponse {
  header: ResponseHeader
  version: string
  /** Bytes of the backend file. */
  dbSize: number
  /** Bytes of it holding live data (the rest is free pages that defragment gives back). */
  dbSizeInUse: number
  /** The leader's member ID; 0 when there is none. */
  leader: bigint
  raftIndex: number
  raftTerm: number
  raftAppliedIndex: number
  /** etcd's text for each active alarm ("memberID:… alarm:NOSPACE ") and "etcdserver: no leader". */
  errors: string[]
  isLearner: boolean
}

export interface HashResponse {
  header: ResponseHeader
  /** etcd 3.4's Hash: a crc32 over the backend's data, equal on members holding the same data. */
  hash: number
}

/**
 * One message of etcd's Snapshot stream: data chunks with the bytes still to come, then one last
 * message whose blob is the sha256 of every preceding blob byte.
 */
export interface SnapshotChunk {
  remainingBytes: number
  blob: Buffer
  /**
   * Where the stream can reuse the blob's memory: the consumer calls it once, when done with the blob
   * (written, encoded, dropped). A consumer that never calls it leaves the memory to the garbage collector.
   */
  release?: () => void
}

/** etcd's Maintenance service. */
export interface Maintenance {
  /** Lists, raises or clears alarms. */
  alarm(req: AlarmRequest): Promise<AlarmResponse>
  /** The serving member's view: version, backend size, raft position, leader, active alarms. */
  status(): Promise<StatusResponse>
  hash(): Promise<HashResponse>
  /** Rewrites the backend into a fresh file without free pages; writes wait meanwhile. */
  defragment(): Promise<void>
  /** A consistent point-in-time copy of the backend, chunk by chunk; the last chunk carries its sha256. */
  snapshot(): AsyncIterable<SnapshotChunk>
  /** Hands leadership to `targetId`; only the leader can (etcd: "not leader"). */
  moveLeader(targetId: bigint): Promise<void>
}

export interface Member {
  id: bigint
  /** Empty for a member that has not started yet. */
  name: string
  peerUrls: string[]
  clientUrls: string[]
  isLearner: boolean
}

export interface MemberListResponse {
  /** Cluster RPC headers carry no revision. */
  header: ResponseHeader
  members: Member[]
}

export interface MemberAddResponse extends MemberListResponse {
  member: Member
}

/** etcd's Cluster service. */
export interface Cluster {
  memberList(): Promise<MemberListResponse>
  memberAdd(peerUrls: string[], isLearner: boolean): Promise<MemberAddResponse>
  memberRemove(id: bigint): Promise<MemberListResponse>
  memberUpdate(id: bigint, peerUrls: string[]): Promise<MemberListResponse>
  memberPromote(id: bigint): Promise<MemberListResponse>
}

export interface UpstreamEndpoint {
  endpoint: string
  health: 'healthy' | 'noLeader' | 'down'
}

export enum PermissionType {
  READ = 0,
  WRITE = 1,
  READWRITE = 2,
}

/** authpb.Permission: one key (empty rangeEnd), [key, rangeEnd), or every key from key on (rangeEnd "\0"). */
export interface Permission {
  permType: PermissionType
  key: Buffer
  rangeEnd: Buffer
}

export interface AuthHeaderResponse {
  header: ResponseHeader
}

export interface AuthenticateRequest {
  name: string
  password: string
}

export interface AuthenticateResponse {
  header: ResponseHeader
  token: string
}

export interface AuthUserAddRequest {
  name: string
  password: string
  options?: { noPassword: boolean }
}

export interface AuthNameRequest {
  name: string
}

export interface AuthUserGetResponse {
  header: ResponseHeader
  roles: string[]
}

export interface AuthUserListResponse {
  header: ResponseHeader
  users: string[]
}

export interface AuthUserChangePasswordRequest {
  name: string
  password: string
}

export interface AuthUserGrantRoleRequest {
  user: string
  role: string
}

export interface AuthUserRevokeRoleRequest {
  name: string
  role: string
}

export interface AuthRoleRequest {
  role: string
}

export interface AuthRoleGetResponse {
  header: ResponseHeader
  perm: Permission[]
}

export interface AuthRoleListResponse {
  header: ResponseHeader
  roles: string[]
}

export interface AuthRoleGrantPermissionRequest {
  name: string
  /** Absent in the request: etcd 3.4 crashes on that; here it is an empty READ permission on the key "". */
  perm?: Permission
}

export interface AuthRoleRevokePermissionRequest {
  role: string
  key: Buffer
  rangeEnd: Buffer
}

/** etcd's Auth service. */
export interface Auth {
  enable(): Promise<AuthHeaderResponse>
  disable(): Promise<AuthHeaderResponse>
  /** A token for the user (with auth enabled and the right password). */
  authenticate(req: AuthenticateRequest): Promise<AuthenticateResponse>
  userAdd(req: AuthUserAddRequest): Promise<AuthHeaderResponse>
  userGet(req: AuthNameRequest): Promise<AuthUserGetResponse>
  userList(): Promise<AuthUserListResponse>
  userDelete(req: AuthNameRequest): Promise<AuthHeaderResponse>
  userChangePassword(req: AuthUserChangePasswordRequest): Promise<AuthHeaderResponse>
  userGrantRole(req: AuthUserGrantRoleRequest): Promise<AuthHeaderResponse>
  userRevokeRole(req: AuthUserRevokeRoleRequest): Promise<AuthHeaderResponse>
  roleAdd(req: AuthNameRequest): Promise<AuthHeaderResponse>
  roleGet(req: AuthRoleRequest): Promise<AuthRoleGetResponse>
  roleList(): Promise<AuthRoleListResponse>
  roleDelete(req: AuthRoleRequest): Promise<AuthHeaderResponse>
  roleGrantPermission(req: AuthRoleGrantPermissionRequest): Promise<AuthHeaderResponse>
  roleRevokePermission(req: AuthRoleRevokePermissionRequest): Promise<AuthHeaderResponse>
}

/**
 * What a request says about who sends it: a token (Authorization, Grpc-Metadata-Token, a WebSocket
 * subprotocol) and the common name of a verified client certificate (only with --client-cert-auth).
 */
export interface Credentials {
  token?: string
  commonName?: string
}
