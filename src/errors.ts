/**
 * One error type for the whole server. Every failure that reaches a client is an EtcdError carrying
 * a gRPC status code and etcd's exact message; the HTTP layer maps the code to a status in one table.
 */
export enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

export class EtcdError extends Error {
  constructor(
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message)
    this.name = 'EtcdError'
  }
}

/** grpc-gateway v1's HTTPStatusFromCode, which etcd 3.4's gateway uses. */
const httpStatusByCode: Record<GrpcCode, number> = {
  [GrpcCode.OK]: 200,
  [GrpcCode.Canceled]: 408,
  [GrpcCode.Unknown]: 500,
  [GrpcCode.InvalidArgument]: 400,
  [GrpcCode.DeadlineExceeded]: 504,
  [GrpcCode.NotFound]: 404,
  [GrpcCode.AlreadyExists]: 409,
  [GrpcCode.PermissionDenied]: 403,
  [GrpcCode.ResourceExhausted]: 429,
  [GrpcCode.FailedPrecondition]: 412,
  [GrpcCode.Aborted]: 409,
  [GrpcCode.OutOfRange]: 400,
  [GrpcCode.Unimplemented]: 501,
  [GrpcCode.Internal]: 500,
  [GrpcCode.Unavailable]: 503,
  [GrpcCode.DataLoss]: 500,
  [GrpcCode.Unauthenticated]: 401,
}

export function httpStatusOf(code: GrpcCode): number {
  return httpStatusByCode[code] ?? 500
}

const make = (code: GrpcCode, message: string) => () => new EtcdError(code, message)

/** etcd's server errors (etcdserver/api/v3rpc/rpctypes), created fresh each time so stacks are useful. */
export const Errors = {
  emptyKey: make(GrpcCode.InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: make(GrpcCode.InvalidArgument, 'etcdserver: key not found'),
  valueProvided: make(GrpcCode.InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: make(GrpcCode.InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: make(GrpcCode.InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: make(GrpcCode.InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  requestTooLarge: make(GrpcCode.InvalidArgument, 'etcdserver: request is too large'),
  compacted: make(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: make(GrpcCode.OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  tooManyRequests: make(GrpcCode.ResourceExhausted, 'etcdserver: too many requests'),
  noSpace: make(GrpcCode.ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),
  corrupt: make(GrpcCode.DataLoss, 'etcdserver: corrupt cluster'),
  /** What a single-member store answers to membership changes: it has no raft to change. */
  singleMember: make(GrpcCode.FailedPrecondition, 'etcdserver: membership change is not supported: etcdgw serves a single member (use the remote backend in front of an etcd cluster)'),
  memberNotFound: make(GrpcCode.NotFound, 'etcdserver: member not found'),
  leaseNotFound: make(GrpcCode.NotFound, 'etcdserver: requested lease not found'),
  leaseExists: make(GrpcCode.FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: make(GrpcCode.OutOfRange, 'etcdserver: too large lease TTL'),
  emptyWatcherRange: make(GrpcCode.InvalidArgument, 'mvcc: watcher range is empty'),
  duplicateWatchId: make(GrpcCode.InvalidArgument, 'mvcc: duplicate watch ID provided on the WatchStream'),
  stopped: make(GrpcCode.Unavailable, 'etcdserver: server stopped'),
  timeout: make(GrpcCode.Unavailable, 'etcdserver: request timed out'),
  /** grpc-go's text for a connection to the member lost mid-request (etcd's gateway shows it as such). */
  transportClosing: make(GrpcCode.Unavailable, 'transport is closing'),
  /** grpc-go's text for a request on a closed client connection. */
  clientClosing: make(GrpcCode.Canceled, 'grpc: the client connection is closing'),
  /** A client sent bytes that do not decode (JSON, base64, types): etcd's gateway answers code 3. */
  badRequest: (message: string) => new EtcdError(GrpcCode.InvalidArgument, message),
  /** A snapshot (etcd db) file that is not whole or not an etcd db: what is wrong, and where. */
  badSnapshot: (message: string) => new EtcdError(GrpcCode.DataLoss, `snapshot: ${message}`),
  /** A snapshot restore refused before it wrote anything (the target exists, is a file, …). */
  restoreRefused: (message: string) => new EtcdError(GrpcCode.FailedPrecondition, `snapshot restore: ${message}`),
} as const
