/**
 * The one interface between the HTTP layer and storage, shaped after etcd's gRPC services.
 * Internal types only: keys and values are Buffers, revisions are numbers, 64-bit IDs are bigints
 * (every bit survives). Field names follow etcd's proto messages in camelCase. Wire details
 * (base64, int64 strings, omitted zero values) live in src/http/codec.ts and nowhere else.
 * Every method rejects with an EtcdError (src/errors.ts) on failure.
 */

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

export interface Backend {
  readonly kv: KV
  /** Stops accepting work, waits for in-flight writes to become durable, releases files. */
  close(): Promise<void>
}
