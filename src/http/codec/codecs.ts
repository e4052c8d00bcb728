/**
 * The JSON codec of every route, compiled once from the message types of the routes in
 * api/messages.ts: the same description the OpenAPI document is generated from. The internal types
 * named here are what those generated functions build and read (tests hold them to it).
 */
import type {
  AuthenticateRequest,
  AuthenticateResponse,
  AuthHeaderResponse,
  AuthNameRequest,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionRequest,
  AuthRoleListResponse,
  AuthRoleRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserGetResponse,
  AuthUserGrantRoleRequest,
  AuthUserListResponse,
  AuthUserRevokeRoleRequest,
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
import { operationAt, operations, type RouteOperation } from '../api/messages.js'
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

/** The internal type of each request message a route reads (tests hold the compiled decoders to them). */
interface RequestTypes {
  RangeRequest: RangeRequest
  PutRequest: PutRequest
  DeleteRangeRequest: DeleteRangeRequest
  TxnRequest: TxnRequest
  CompactionRequest: CompactionRequest
  LeaseGrantRequest: LeaseGrantRequest
  LeaseRevokeRequest: LeaseIdRequest
  LeaseKeepAliveRequest: LeaseIdRequest
  LeaseTimeToLiveRequest: LeaseTimeToLiveRequest
  LeaseLeasesRequest: EmptyRequest
  /** `kind: 'none'` when no request is set (`{}`, an unknown field), which etcd ignores. */
  WatchRequest: WatchRequest | { kind: 'none' }
  AlarmRequest: AlarmRequest
  StatusRequest: EmptyRequest
  DefragmentRequest: EmptyRequest
  HashRequest: EmptyRequest
  MoveLeaderRequest: MoveLeaderRequest
  SnapshotRequest: EmptyRequest
  MemberListRequest: EmptyRequest
  MemberAddRequest: MemberAddRequest
  MemberRemoveRequest: MemberIdRequest
  MemberUpdateRequest: MemberUpdateRequest
  MemberPromoteRequest: MemberIdRequest
  AuthEnableRequest: EmptyRequest
  AuthDisableRequest: EmptyRequest
  AuthenticateRequest: AuthenticateRequest
  AuthUserAddRequest: AuthUserAddRequest
  AuthUserGetRequest: AuthNameRequest
  AuthUserListRequest: EmptyRequest
  AuthUserDeleteRequest: AuthNameRequest
  AuthUserChangePasswordRequest: AuthUserChangePasswordRequest
  AuthUserGrantRoleRequest: AuthUserGrantRoleRequest
  AuthUserRevokeRoleRequest: AuthUserRevokeRoleRequest
  AuthRoleAddRequest: AuthNameRequest
  AuthRoleGetRequest: AuthRoleRequest
  AuthRoleListRequest: EmptyRequest
  AuthRoleDeleteRequest: AuthRoleRequest
  AuthRoleGrantPermissionRequest: AuthRoleGrantPermissionRequest
  AuthRoleRevokePermissionRequest: AuthRoleRevokePermissionRequest
}

/** The internal type of each response message a route writes. */
interface ResponseTypes {
  RangeResponse: RangeResponse
  PutResponse: PutResponse
  DeleteRangeResponse: DeleteRangeResponse
  TxnResponse: TxnResponse
  CompactionResponse: CompactionResponse
  LeaseGrantResponse: LeaseGrantResponse
  LeaseRevokeResponse: LeaseRevokeResponse
  LeaseKeepAliveResponse: LeaseKeepAliveResponse
  LeaseTimeToLiveResponse: LeaseTimeToLiveResponse
  LeaseLeasesResponse: LeaseLeasesResponse
  WatchResponse: WatchResponse
  /** etcd's gateway writes no header for alarms, defragment and transfer-leadership. */
  AlarmResponse: AlarmResponse
  StatusResponse: StatusResponse
  DefragmentResponse: EmptyResponse
  HashResponse: HashResponse
  MoveLeaderResponse: EmptyResponse
  /** One snapshot message, without the stream's `{"result":…}` wrapper. */
  SnapshotResponse: SnapshotChunk
  MemberListResponse: MemberListResponse
  MemberAddResponse: MemberAddResponse
  MemberRemoveResponse: MemberListResponse
  MemberUpdateResponse: MemberListResponse
  MemberPromoteResponse: MemberListResponse
  AuthEnableResponse: AuthHeaderResponse
  AuthDisableResponse: AuthHeaderResponse
  AuthenticateResponse: AuthenticateResponse
  AuthUserAddResponse: AuthHeaderResponse
  AuthUserGetResponse: AuthUserGetResponse
  AuthUserListResponse: AuthUserListResponse
  AuthUserDeleteResponse: AuthHeaderResponse
  AuthUserChangePasswordResponse: AuthHeaderResponse
  AuthUserGrantRoleResponse: AuthHeaderResponse
  AuthUserRevokeRoleResponse: AuthHeaderResponse
  AuthRoleAddResponse: AuthHeaderResponse
  AuthRoleGetResponse: AuthRoleGetResponse
  AuthRoleListResponse: AuthRoleListResponse
  AuthRoleDeleteResponse: AuthHeaderResponse
  AuthRoleGrantPermissionResponse: AuthHeaderResponse
  AuthRoleRevokePermissionResponse: AuthHeaderResponse
}

/** etcd's messages are the POST routes' (GET routes answer the HTTP API's own messages, written by their routes). */
type EtcdOperation = Extract<RouteOperation, { method: 'post' }>
export type RequestName = EtcdOperation['request']
export type ResponseName = EtcdOperation['response']
/** What a route's request decodes to and its response encodes from (a route without a type here does not compile). */
export type RequestOf<N extends RequestName> = RequestTypes[N]
export type ResponseOf<N extends ResponseName> = ResponseTypes[N]

const postOperations = operations.filter((op) => op.method === 'post') as EtcdOperation[]

export const decoders = compileDecoders([...new Set(postOperations.map((op) => op.request))]) as {
  [N in RequestName]: Decoder<RequestOf<N>>
}

export const encoders = compileEncoders([...new Set(postOperations.map((op) => op.response))]) as {
  [N in ResponseName]: Encoder<ResponseOf<N>>
}

export type RoutePath = EtcdOperation['path']
type OperationAt<P extends RoutePath> = Extract<EtcdOperation, { path: P }>
/** The internal request type of the route at P, and its response type. */
export type RouteRequest<P extends RoutePath> = RequestOf<OperationAt<P>['request']>
export type RouteResponse<P extends RoutePath> = ResponseOf<OperationAt<P>['response']>

/** The decoder of the route's request and the encoder of its response, as its operation names them. */
export function codecAt<P extends RoutePath>(path: P): { decode: Decoder<RouteRequest<P>>; encode: Encoder<RouteResponse<P>> } {
  const op = operationAt(path)
  return {
    decode: decoders[op.request as RequestName] as Decoder<RouteRequest<P>>,
    encode: encoders[op.response as ResponseName] as Encoder<RouteResponse<P>>,
  }
}
