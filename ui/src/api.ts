/**
 * The gateway's public API as the console uses it: etcd's JSON routes in text mode (`?encoding=utf8`),
 * exactly what curl can send. Nothing here is private to the console.
 */
import type { WireBytes } from './bytes.js'

export interface Header {
  cluster_id?: string
  member_id?: string
  revision?: string
  raft_term?: string
}

export interface KeyValue {
  key: WireBytes
  create_revision?: string
  mod_revision?: string
  version?: string
  value?: WireBytes
  lease?: string
}

export interface RangeRequest {
  key: WireBytes
  range_end?: WireBytes
  limit?: number
  revision?: number
  keys_only?: boolean
  count_only?: boolean
}

export interface RangeResponse {
  header: Header
  kvs?: KeyValue[]
  more?: boolean
  count?: string
}

export type Compare = {
  key: WireBytes
  target: 'MOD' | 'CREATE' | 'VERSION' | 'VALUE'
  result?: 'EQUAL'
  mod_revision?: string
  create_revision?: string
}

export type RequestOp =
  | { request_put: { key: WireBytes; value: WireBytes; lease?: string } }
  | { request_delete_range: { key: WireBytes } }
  | { request_range: { key: WireBytes } }

export interface TxnResponse {
  header: Header
  succeeded?: boolean
  responses?: { response_range?: RangeResponse }[]
}

export interface Member {
  ID: string
  name?: string
  peerURLs?: string[]
  clientURLs?: string[]
  isLearner?: boolean
}

export interface StatusResponse {
  header: Header
  version?: string
  dbSize?: string
  dbSizeInUse?: string
  leader?: string
  raftIndex?: string
  raftTerm?: string
  raftAppliedIndex?: string
  errors?: string[]
}

export interface Alarm {
  memberID?: string
  alarm?: 'NONE' | 'NOSPACE' | 'CORRUPT'
}

export interface LeaseTimeToLive {
  ID: string
  TTL?: string
  grantedTTL?: string
}

/** An error answer in etcd's shape, or a failure to reach the gateway (code -1). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status: number,
  ) {
    super(message)
  }
}

/**
 * Who the console acts as when the cluster has authentication on: the token from /v3/auth/authenticate,
 * held in this tab's memory only (never in storage or a cookie: a reload asks again), and sent as etcdgw
 * takes it from tools, `Authorization: Bearer`, and on the watch socket in the subprotocol list.
 */
export const session = {
  user: undefined as string | undefined,
  token: undefined as string | undefined,
  /** Called when an answer says the cluster wants a user (none given, or the token has expired). */
  onLoginNeeded: (() => undefined) as () => void,

  async login(name: string, password: string): Promise<void> {
    const { token } = await postJson<{ token: string }>('/v3/auth/authenticate', { name, password })
    session.token = token
    session.user = name
  },
  logout(): void {
    session.token = undefined
    session.user = undefined
  },
}

/** etcd's answers that mean "log in": no user given while auth is on, or a token no longer valid. */
const LOGIN_NEEDED = new Set(['etcdserver: user name is empty', 'etcdserver: invalid auth token'])

/** The watch socket's subprotocols: the token after "Bearer", as browsers can set no header on a WebSocket. */
export const watchProtocols = (): string[] => (session.token ? ['Bearer', session.token] : [])

/** A JSON call; an answer that is not 2xx becomes an ApiError with etcd's message. */
async function call<T>(url: string, init: RequestInit): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, session.token ? { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${session.token}` } } : init)
  } catch (err) {
    throw new ApiError(`the gateway cannot be reached (${err instanceof Error ? err.message : String(err)})`, -1, 0)
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ApiError(`${res.status} ${res.statusText}: ${text.trim()}`, -1, res.status)
  }
  if (!res.ok) {
    const e = json as { message?: string; code?: number }
    if (e.message !== undefined && LOGIN_NEEDED.has(e.message)) session.onLoginNeeded()
    throw new ApiError(e.message ?? `${res.status} ${res.statusText}`, e.code ?? -1, res.status)
  }
  return json as T
}

const postJson = <T>(url: string, body: unknown) =>
  call<T>(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

const post = <T>(path: string, body: unknown) => postJson<T>(`/v3/${path}?encoding=utf8`, body)

/** A backup as GET /backups lists it (`etcdgw backup list -w json`). */
export interface Backup {
  name: string
  time: string
  where: string
  paths: string[]
  fileBytes: number
  verified: boolean
  revision?: number
  totalKey?: number
  hash?: number
}

export interface VerifiedCopy {
  name: string
  store: string
  revision: number
  totalKey: number
  fileBytes: number
  hash: number
}

export const api = {
  range: (req: RangeRequest) => post<RangeResponse>('kv/range', req),
  txn: (compare: Compare[], success: RequestOp[], failure: RequestOp[]) => post<TxnResponse>('kv/txn', { compare, success, failure }),
  compact: (revision: number, physical: boolean) => post<{ header: Header }>('kv/compaction', { revision, physical }),
  leaseTimeToLive: (id: string) => post<LeaseTimeToLive>('lease/timetolive', { ID: id }),
  memberList: () => post<{ header: Header; members?: Member[] }>('cluster/member/list', {}),
  status: () => post<StatusResponse>('maintenance/status', {}),
  alarms: () => post<{ alarms?: Alarm[] }>('maintenance/alarm', { action: 'GET' }),
  disarm: (a: Alarm) => post<{ alarms?: Alarm[] }>('maintenance/alarm', { action: 'DEACTIVATE', memberID: a.memberID, alarm: a.alarm }),
  defragment: () => post<{ header: Header }>('maintenance/defragment', {}),
  /** etcdgw's own routes, there while the server takes scheduled backups. */
  backups: () => call<{ backups: Backup[] }>('/backups', { headers: { accept: 'application/json' } }),
  verifyBackup: (name: string) => postJson<{ copies: VerifiedCopy[] }>('/backups/verify', { name }),
}

export async function getText(path: string): Promise<{ ok: boolean; status: number; text: string }> {
  try {
    const res = await fetch(path, { headers: { accept: 'text/plain' } })
    return { ok: res.ok, status: res.status, text: await res.text() }
  } catch (err) {
    return { ok: false, status: 0, text: err instanceof Error ? err.message : String(err) }
  }
}

export const num = (s: string | undefined): number => (s === undefined ? 0 : Number(s))

/** gRPC's PermissionDenied. */
const PERMISSION_DENIED = 7

export function errorText(err: unknown): string {
  if (err instanceof ApiError && err.code === PERMISSION_DENIED) {
    return `Permission denied: user ${session.user ?? '(none)'} may not do this here (${err.message}).`
  }
  return err instanceof Error ? err.message : String(err)
}
