/**
 * The error registry: every error the server answers with is declared here once, with a stable code, its gRPC
 * code and etcd's exact message. The HTTP layer derives the status from the gRPC code in one table.
 *
 * Codes are `ETCDGW_ERR_` and a name in capitals, for etcd's own errors the name etcd gives them
 * (rpctypes.ErrGRPCKeyNotFound is ETCDGW_ERR_KEY_NOT_FOUND, mvcc.ErrWatcherDuplicateID is
 * ETCDGW_ERR_WATCHER_DUPLICATE_ID). A code never changes once given; code that needs to know which error it
 * holds compares `err.code` with an entry's `code`, never the message (the text is etcd's, not ours to key on).
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
    /** The registry's stable code (`ETCDGW_ERR_*`). */
    readonly code: string,
    readonly grpcCode: GrpcCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
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


/** A registry entry whose message never varies: calling it makes a fresh error, so stacks are useful. */
export interface FixedError {
  (): EtcdError
  readonly code: string
  readonly grpcCode: GrpcCode
  readonly message: string
}

/** A registry entry whose message has variable parts (a revision, a size), given as arguments. */
export interface FormattedError<A extends unknown[]> {
  (...args: A): EtcdError
  readonly code: string
  readonly grpcCode: GrpcCode
  readonly message: (...args: A) => string
}

function fixed(code: string, grpcCode: GrpcCode, message: string): FixedError {
  return Object.assign(() => new EtcdError(code, grpcCode, message), { code, grpcCode, message })
}

/** An Error among the arguments becomes the cause of the error made. */
function formatted<A extends unknown[]>(code: string, grpcCode: GrpcCode, message: (...args: A) => string): FormattedError<A> {
  const make = (...args: A) => {
    const cause = args.find((a) => a instanceof Error)
    return new EtcdError(code, grpcCode, message(...args), cause ? { cause } : undefined)
  }
  return Object.assign(make, { code, grpcCode, message })
}

const textOf = (err: unknown) => (err instanceof Error ? err.message : String(err))

const { InvalidArgument, OutOfRange, ResourceExhausted, NotFound, FailedPrecondition, PermissionDenied } = GrpcCode
const { Unauthenticated, Unavailable, DataLoss, Internal, Unknown, Canceled } = GrpcCode

export const Errors = {
  // etcd's server errors, as etcd 3.4 declares them (etcdserver/api/v3rpc/rpctypes/error.go)
  emptyKey: fixed('ETCDGW_ERR_EMPTY_KEY', InvalidArgument, 'etcdserver: key is not provided'),
  keyNotFound: fixed('ETCDGW_ERR_KEY_NOT_FOUND', InvalidArgument, 'etcdserver: key not found'),
  valueProvided: fixed('ETCDGW_ERR_VALUE_PROVIDED', InvalidArgument, 'etcdserver: value is provided'),
  leaseProvided: fixed('ETCDGW_ERR_LEASE_PROVIDED', InvalidArgument, 'etcdserver: lease is provided'),
  tooManyOps: fixed('ETCDGW_ERR_TOO_MANY_OPS', InvalidArgument, 'etcdserver: too many operations in txn request'),
  duplicateKey: fixed('ETCDGW_ERR_DUPLICATE_KEY', InvalidArgument, 'etcdserver: duplicate key given in txn request'),
  compacted: fixed('ETCDGW_ERR_COMPACTED', OutOfRange, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: fixed('ETCDGW_ERR_FUTURE_REV', OutOfRange, 'etcdserver: mvcc: required revision is a future revision'),
  noSpace: fixed('ETCDGW_ERR_NO_SPACE', ResourceExhausted, 'etcdserver: mvcc: database space exceeded'),
  leaseNotFound: fixed('ETCDGW_ERR_LEASE_NOT_FOUND', NotFound, 'etcdserver: requested lease not found'),
  leaseExists: fixed('ETCDGW_ERR_LEASE_EXIST', FailedPrecondition, 'etcdserver: lease already exists'),
  leaseTTLTooLarge: fixed('ETCDGW_ERR_LEASE_TTL_TOO_LARGE', OutOfRange, 'etcdserver: too large lease TTL'),
  memberExists: fixed('ETCDGW_ERR_MEMBER_EXIST', FailedPrecondition, 'etcdserver: member ID already exist'),
  peerURLExists: fixed('ETCDGW_ERR_PEER_URL_EXIST', FailedPrecondition, 'etcdserver: Peer URLs already exists'),
  memberNotEnoughStarted: fixed(
    'ETCDGW_ERR_MEMBER_NOT_ENOUGH_STARTED',
    FailedPrecondition,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  memberBadURLs: fixed('ETCDGW_ERR_MEMBER_BAD_URLS', InvalidArgument, 'etcdserver: given member URLs are invalid'),
  memberNotFound: fixed('ETCDGW_ERR_MEMBER_NOT_FOUND', NotFound, 'etcdserver: member not found'),
  memberNotLearner: fixed('ETCDGW_ERR_MEMBER_NOT_LEARNER', FailedPrecondition, 'etcdserver: can only promote a learner member'),
  learnerNotReady: fixed(
    'ETCDGW_ERR_LEARNER_NOT_READY',
    FailedPrecondition,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  tooManyLearners: fixed('ETCDGW_ERR_TOO_MANY_LEARNERS', FailedPrecondition, 'etcdserver: too many learner members in cluster'),
  requestTooLarge: fixed('ETCDGW_ERR_REQUEST_TOO_LARGE', InvalidArgument, 'etcdserver: request is too large'),
  tooManyRequests: fixed('ETCDGW_ERR_TOO_MANY_REQUESTS', ResourceExhausted, 'etcdserver: too many requests'),
  rootUserNotExist: fixed('ETCDGW_ERR_ROOT_USER_NOT_EXIST', FailedPrecondition, 'etcdserver: root user does not exist'),
  rootRoleNotExist: fixed('ETCDGW_ERR_ROOT_ROLE_NOT_EXIST', FailedPrecondition, 'etcdserver: root user does not have root role'),
  userAlreadyExists: fixed('ETCDGW_ERR_USER_ALREADY_EXIST', FailedPrecondition, 'etcdserver: user name already exists'),
  userEmpty: fixed('ETCDGW_ERR_USER_EMPTY', InvalidArgument, 'etcdserver: user name is empty'),
  userNotFound: fixed('ETCDGW_ERR_USER_NOT_FOUND', FailedPrecondition, 'etcdserver: user name not found'),
  roleEmpty: fixed('ETCDGW_ERR_ROLE_EMPTY', InvalidArgument, 'etcdserver: role name is empty'),
  roleAlreadyExists: fixed('ETCDGW_ERR_ROLE_ALREADY_EXIST', FailedPrecondition, 'etcdserver: role name already exists'),
  roleNotFound: fixed('ETCDGW_ERR_ROLE_NOT_FOUND', FailedPrecondition, 'etcdserver: role name not found'),
  authFailed: fixed('ETCDGW_ERR_AUTH_FAILED', InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password'),
  permissionDenied: fixed('ETCDGW_ERR_PERMISSION_DENIED', PermissionDenied, 'etcdserver: permission denied'),
  roleNotGranted: fixed('ETCDGW_ERR_ROLE_NOT_GRANTED', FailedPrecondition, 'etcdserver: role is not granted to the user'),
  permissionNotGranted: fixed(
    'ETCDGW_ERR_PERMISSION_NOT_GRANTED',
    FailedPrecondition,
    'etcdserver: permission is not granted to the role',
  ),
  /** etcd passes auth.ErrNoPasswordUser on unconverted: gRPC code 2 and the auth package's own words. */
  noPasswordUser: fixed(
    'ETCDGW_ERR_NO_PASSWORD_USER',
    Unknown,
    'auth: authentication failed, password was given for no password user',
  ),
  /**
   * etcd's maintenance service (hash, defragment, snapshot, alarm) passes the auth store's errors on
   * unconverted: gRPC code 2 and the auth package's words ("auth: permission denied").
   */
  authUnconverted: formatted('ETCDGW_ERR_AUTH_UNCONVERTED', Unknown, (converted: EtcdError) =>
    converted.message.replace(/^etcdserver: /, 'auth: '),
  ),
  authNotEnabled: fixed('ETCDGW_ERR_AUTH_NOT_ENABLED', FailedPrecondition, 'etcdserver: authentication is not enabled'),
  invalidAuthToken: fixed('ETCDGW_ERR_INVALID_AUTH_TOKEN', Unauthenticated, 'etcdserver: invalid auth token'),
  invalidAuthMgmt: fixed('ETCDGW_ERR_INVALID_AUTH_MGMT', InvalidArgument, 'etcdserver: invalid auth management'),
  authOldRevision: fixed('ETCDGW_ERR_AUTH_OLD_REVISION', InvalidArgument, 'etcdserver: revision of auth store is old'),
  noLeader: fixed('ETCDGW_ERR_NO_LEADER', Unavailable, 'etcdserver: no leader'),
  notLeader: fixed('ETCDGW_ERR_NOT_LEADER', FailedPrecondition, 'etcdserver: not leader'),
  leaderChanged: fixed('ETCDGW_ERR_LEADER_CHANGED', Unavailable, 'etcdserver: leader changed'),
  notCapable: fixed('ETCDGW_ERR_NOT_CAPABLE', Unavailable, 'etcdserver: not capable'),
  stopped: fixed('ETCDGW_ERR_STOPPED', Unavailable, 'etcdserver: server stopped'),
  timeout: fixed('ETCDGW_ERR_TIMEOUT', Unavailable, 'etcdserver: request timed out'),
  timeoutDueToLeaderFail: fixed(
    'ETCDGW_ERR_TIMEOUT_DUE_TO_LEADER_FAIL',
    Unavailable,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  timeoutDueToConnectionLost: fixed(
    'ETCDGW_ERR_TIMEOUT_DUE_TO_CONNECTION_LOST',
    Unavailable,
    'etcdserver: request timed out, possibly due to connection lost',
  ),
  unhealthy: fixed('ETCDGW_ERR_UNHEALTHY', Unavailable, 'etcdserver: unhealthy cluster'),
  corrupt: fixed('ETCDGW_ERR_CORRUPT', DataLoss, 'etcdserver: corrupt cluster'),
  notSupportedForLearner: fixed('ETCDGW_ERR_NOT_SUPPORTED_FOR_LEARNER', Unavailable, 'etcdserver: rpc not supported for learner'),
  badLeaderTransferee: fixed('ETCDGW_ERR_BAD_LEADER_TRANSFEREE', FailedPrecondition, 'etcdserver: bad leader transferee'),
  /** raft's ErrProposalDropped, which etcd passes on without a gRPC code of its own. */
  proposalDropped: fixed('ETCDGW_ERR_PROPOSAL_DROPPED', Unknown, 'raft proposal dropped'),

  // etcd's watch refusals (mvcc), sent as a cancel reason
  emptyWatcherRange: fixed('ETCDGW_ERR_EMPTY_WATCHER_RANGE', InvalidArgument, 'mvcc: watcher range is empty'),
  duplicateWatchId: fixed(
    'ETCDGW_ERR_WATCHER_DUPLICATE_ID',
    InvalidArgument,
    'mvcc: duplicate watch ID provided on the WatchStream',
  ),

  // grpc-go's words, which etcd's clients and gateway show as they are
  /** A connection to the member lost mid-request. */
  transportClosing: fixed('ETCDGW_ERR_TRANSPORT_CLOSING', Unavailable, 'transport is closing'),
  /** A request on a closed client connection. */
  clientClosing: fixed('ETCDGW_ERR_CLIENT_CONN_CLOSING', Canceled, 'grpc: the client connection is closing'),
  /** etcd's gRPC server refuses any message larger than its receive limit. */
  messageTooLarge: formatted(
    'ETCDGW_ERR_MESSAGE_TOO_LARGE',
    ResourceExhausted,
    (size: number, max: number) => `grpc: received message larger than max (${size} vs. ${max})`,
  ),

  // a request body that does not decode: Go's encoding/json and jsonpb texts, which etcd's gateway answers with code 3
  /** A streamed request ended inside a JSON value. */
  jsonUnexpectedEof: fixed('ETCDGW_ERR_JSON_UNEXPECTED_EOF', InvalidArgument, 'unexpected EOF'),
  jsonUnexpectedEnd: fixed('ETCDGW_ERR_JSON_UNEXPECTED_END', InvalidArgument, 'unexpected end of JSON input'),
  /** `char` as Go quotes it (`'x'`, `'\x01'`), `context` as Go says where it was (`looking for beginning of value`). */
  jsonInvalidCharacter: formatted(
    'ETCDGW_ERR_JSON_INVALID_CHARACTER',
    InvalidArgument,
    (char: string, context: string) => `invalid character ${char} ${context}`,
  ),
  jsonTypeMismatch: formatted(
    'ETCDGW_ERR_JSON_TYPE_MISMATCH',
    InvalidArgument,
    (kind: string, goType: string) => `json: cannot unmarshal ${kind} into Go value of type ${goType}`,
  ),
  /** `value` quoted as Go's %q does. */
  jsonUnknownEnumValue: formatted(
    'ETCDGW_ERR_JSON_UNKNOWN_ENUM_VALUE',
    InvalidArgument,
    (value: string, goType: string) => `unknown value ${value} for enum ${goType}`,
  ),
  illegalBase64: formatted('ETCDGW_ERR_ILLEGAL_BASE64', InvalidArgument, (offset: number) => `illegal base64 data at input byte ${offset}`),
  /** Fastify refused the request before any route saw it (a content type it cannot parse, ...): its own words. */
  requestRejected: formatted('ETCDGW_ERR_REQUEST_REJECTED', InvalidArgument, (message: string) => message),
  /** grpc-gateway fails a stream's start with the request's decode error itself as code 2 (Unknown), whatever it was. */
  streamRequestUndecodable: formatted('ETCDGW_ERR_STREAM_REQUEST_UNDECODABLE', Unknown, (cause: EtcdError) => cause.message),

  // etcdgw's own: ?encoding=utf8 and the embedded store
  utf8Invalid: fixed('ETCDGW_ERR_UTF8_INVALID', InvalidArgument, 'etcdgw: a string in a ?encoding=utf8 request is not valid UTF-8'),
  utf8BytesField: formatted(
    'ETCDGW_ERR_UTF8_BYTES_FIELD',
    InvalidArgument,
    (kind: string) => `etcdgw: with ?encoding=utf8 a bytes field is a string or {"base64":"..."}, not ${kind}`,
  ),
  prefixWithRangeEnd: fixed(
    'ETCDGW_ERR_PREFIX_WITH_RANGE_END',
    InvalidArgument,
    'etcdgw: "prefix" and "range_end" cannot be given together',
  ),
  /** `encoding` quoted as Go's %q does. */
  unknownEncoding: formatted(
    'ETCDGW_ERR_UNKNOWN_ENCODING',
    InvalidArgument,
    (encoding: string) => `etcdgw: unknown encoding ${encoding} (use ?encoding=utf8, or base64, the default)`,
  ),
  /** What a single-member store answers to membership changes: it has no raft to change. */
  singleMember: fixed(
    'ETCDGW_ERR_SINGLE_MEMBER',
    FailedPrecondition,
    'etcdserver: membership change is not supported: etcdgw serves a single member (use the remote backend in front of an etcd cluster)',
  ),
  unknownAlarmAction: formatted(
    'ETCDGW_ERR_UNKNOWN_ALARM_ACTION',
    InvalidArgument,
    (action: number) => `etcdserver: unknown alarm action ${action}`,
  ),
  snapshotIncomplete: formatted(
    'ETCDGW_ERR_SNAPSHOT_INCOMPLETE',
    Internal,
    (sent: number, size: number) => `etcdserver: snapshot ended after ${sent} of ${size} bytes`,
  ),
  /** The store changed under a snapshot's read transaction between its layout and its writing. */
  snapshotChanged: formatted(
    'ETCDGW_ERR_SNAPSHOT_CHANGED',
    Internal,
    (written: number, announced: number) => `snapshot: the data changed while it was written (${written} pages laid out, ${announced} announced)`,
  ),
  /** A snapshot (etcd db) file that is not whole or not an etcd db: what is wrong, and where. */
  snapshotInvalid: formatted('ETCDGW_ERR_SNAPSHOT_INVALID', DataLoss, (detail: string) => `snapshot: ${detail}`),
  /** A snapshot restore refused before it wrote anything (the target exists, is a file, …). */
  restoreRefused: formatted('ETCDGW_ERR_RESTORE_REFUSED', FailedPrecondition, (detail: string) => `snapshot restore: ${detail}`),
  /** A snapshot restore whose new store could not be written (nothing of it is left). */
  restoreWriteFailed: formatted(
    'ETCDGW_ERR_RESTORE_WRITE_FAILED',
    Internal,
    (path: string, cause: Error, freeBytes: number) => `snapshot restore: writing ${path} failed: ${cause.message} (${freeBytes} bytes free on its file system)`,
  ),
  /** A backup that cannot be taken: the snapshot source failed or the destination cannot hold it. */
  backupFailed: formatted('ETCDGW_ERR_BACKUP_FAILED', Unavailable, (stage: string, cause: Error) => `backup: ${stage}: ${cause.message}`),
  backupNotFound: formatted('ETCDGW_ERR_BACKUP_NOT_FOUND', NotFound, (what: string, dir: string) => `backup: ${what} in ${dir}`),
  /** POST /backups/verify's body is not {"name": "..."}. */
  backupVerifyRequest: fixed('ETCDGW_ERR_BACKUP_VERIFY_REQUEST', InvalidArgument, 'etcdgw: POST /backups/verify takes {"name": "<backup name>"} or {"name": "latest"}'),
  revisionMissing: formatted(
    'ETCDGW_ERR_REVISION_MISSING',
    DataLoss,
    (main: number, sub: number) => `etcdserver: revision ${main}/${sub} is missing from the store`,
  ),
  /** Remote mode: the replica of the cluster's keyspace would pass --replica-max-bytes, so the gateway does not start. */
  replicaTooLarge: formatted(
    'ETCDGW_ERR_REPLICA_TOO_LARGE',
    ResourceExhausted,
    (keys: number, estimate: number, max: number) =>
      `replica: ${keys} keys would take about ${estimate} bytes of memory, more than --replica-max-bytes ${max}; raise it, or run with --replica=false`,
  ),
  /** The embedded store's write-ahead log misses a batch it has later ones of: the store does not start. */
  logDamaged: formatted(
    'ETCDGW_ERR_LOG_DAMAGED',
    DataLoss,
    (dir: string, batch: number) =>
      `etcdgw: the write-ahead log in ${dir} has no record of batch ${batch} but has later ones: the log is damaged (the store file holds the batches before it)`,
  ),
  persistFailed: formatted(
    'ETCDGW_ERR_PERSIST_FAILED',
    Internal,
    (what: string, cause: Error) => `etcdserver: failed to persist ${what}: ${cause.message}`,
  ),

  /** While the web console is served, a browser's POST or WebSocket handshake from another origin (routes/ui.ts). */
  crossOriginRefused: formatted(
    'ETCDGW_ERR_CROSS_ORIGIN_REFUSED',
    PermissionDenied,
    (origin: string) =>
      `etcdgw: cross-origin request from ${origin} refused: while the web console is served, browsers may send requests from this server's own origin only`,
  ),

  /**
   * Remote mode with --client-cert-auth, etcd's auth enabled: etcd would take the gateway's own connection
   * for the request, and the gateway cannot become another etcd user without that user's password.
   */
  certificateIdentityRemote: formatted(
    'ETCDGW_ERR_CERTIFICATE_IDENTITY_REMOTE',
    Unauthenticated,
    (user: string) =>
      `etcdgw: in front of an etcd cluster a client certificate cannot act as etcd user ${JSON.stringify(user)} ` +
      '(etcd would need its password): authenticate with /v3/auth/authenticate and send the token',
  ),

  /** The server sheds the streams of its slowest clients (--stream-send-budget-bytes). */
  sendBudgetExceeded: formatted(
    'ETCDGW_ERR_SEND_BUDGET_EXCEEDED',
    ResourceExhausted,
    (maxBytes: number) =>
      `etcdgw: more than ${maxBytes} bytes are waiting for the slowest clients of this server (--stream-send-budget-bytes), ` +
      'this one among them; read faster or watch less',
  ),

  /** A failure that is no EtcdError (a bug, an I/O error): gRPC's code 2 and the failure's own text. */
  unknown: formatted('ETCDGW_ERR_UNKNOWN', Unknown, textOf),
} as const

const RELAYED = 'ETCDGW_ERR_ETCD_UNLISTED'

/**
 * An error from a real etcd that the registry does not list (a newer etcd's, say): its code and text go to the
 * client as etcd sent them. Only the remote backend's mapping of etcd's errors (backend/remote/errors.ts) makes these.
 */
export const relayedEtcdError = Object.assign(
  (grpcCode: GrpcCode, message: string) => new EtcdError(RELAYED, grpcCode, message),
  { code: RELAYED },
)

/** grpc-go's text of an error as a status ("rpc error: code = PermissionDenied desc = etcdserver: permission denied"). */
export function grpcStatusText(err: EtcdError): string {
  return `rpc error: code = ${GrpcCode[err.grpcCode]} desc = ${err.message}`
}

/** Any thrown value as an EtcdError: itself if it is one, else Errors.unknown. */
export function etcdErrorOf(err: unknown): EtcdError {
  return err instanceof EtcdError ? err : Errors.unknown(err)
}

/** What of an EtcdError crosses a thread (a worker's postMessage keeps no class). */
export interface EtcdErrorFields {
  code: string
  grpcCode: GrpcCode
  message: string
}

/** An EtcdError made on a worker thread, as it was there. */
export function etcdErrorFrom(fields: EtcdErrorFields): EtcdError {
  return new EtcdError(fields.code, fields.grpcCode, fields.message)
}
