import type * as grpc from '@grpc/grpc-js'
import { Errors } from '../../errors.js'
import { endpointTls, readClientTls, sameClientTls, wantsTls, type ClientTls, type TlsFiles } from './credentials.js'
import { isDeadline, isNoLeader, isServiceError, isTransportFailure, neverReachedServer, retryableRead, toEtcdError } from './errors.js'
import type { PbStatusResponse } from './messages.js'
import { Member, requireLeader, type MemberHealth } from './member.js'
import type { ServiceName } from './proto.js'
import { Metadata } from '@grpc/grpc-js'

/**
 * How a request may be repeated on another member:
 * - `read`: linearizable reads, retried after any unavailability (etcd needs a leader to answer them);
 * - `serializable`: reads any member answers from its own store, even without a leader;
 * - `write`: sent again only when it provably never reached a server.
 */
export type RetryPolicy = 'read' | 'serializable' | 'write'

export interface EndpointPoolOptions extends TlsFiles {
  endpoints: string[]
  /** Every request ends by then: a write stuck on a dead leader fails with 503 instead of hanging. */
  requestTimeoutMs: number
  healthIntervalMs?: number
}

/** The requests one caller sends: with a token, each carries it as etcd's "token" metadata. */
export interface Calls {
  call<Res>(service: ServiceName, method: string, req: unknown, policy: RetryPolicy): Promise<Res>
  serverStream<Res>(service: ServiceName, method: string, req: unknown): grpc.ClientReadableStream<Res>
}

/** etcd's metadata key for a caller's token (rpctypes.TokenFieldNameGRPC). */
const TOKEN_METADATA = 'token'

const RANK: Record<MemberHealth, number> = { healthy: 0, noLeader: 1, down: 2 }
const RETRY_PAUSE_MS = 50
/** Unhealthy members are probed this often, so a new leader or a restarted member is seen quickly. */
const PROBE_TICK_MS = 250

/**
 * The members of one etcd cluster. Requests go to one preferred member while it is healthy; a probe
 * (Maintenance.Status) keeps every member's health current, and failures found by requests move the
 * preference at once.
 */
export class EndpointPool implements Calls {
  readonly members: Member[]
  readonly requestTimeoutMs: number
  private readonly healthIntervalMs: number
  private readonly readAttemptMs: number
  private readonly lastProbe = new Map<Member, number>()
  private preferred = 0
  /** etcd's member ID of the leader, as the last probe that saw one reported */
  private leaderId = ''
  /** How often the probes found another leader than the one before (the first one found counts). */
  leaderChangesSeen = 0
  private readonly timer: NodeJS.Timeout
  private readonly probing = new Set<Member>()
  private closed = false
  private readonly tls: TlsFiles
  /** the TLS files' contents the members' connections use */
  private tlsInUse: ClientTls | undefined

  constructor(opts: EndpointPoolOptions) {
    if (opts.endpoints.length === 0) throw new Error('no etcd endpoints given')
    this.tls = opts
    const files = opts.endpoints.some((ep) => wantsTls(ep, opts)) ? readClientTls(opts) : undefined
    this.tlsInUse = files
    this.members = opts.endpoints.map((ep) => new Member(ep, endpointTls(ep, opts, files)))
    this.requestTimeoutMs = opts.requestTimeoutMs
    this.readAttemptMs = Math.max(1_000, opts.requestTimeoutMs / 3)
    this.healthIntervalMs = opts.healthIntervalMs ?? 1_000
    this.timer = setInterval(() => void this.probeDue(), PROBE_TICK_MS)
    this.timer.unref()
  }

  /**
   * The member to use now: for requests that need the leader, the leader itself while it is healthy
   * (no forwarding, and a follower's loss cannot touch them); else the preferred member unless
   * another is healthier.
   */
  pick(exclude?: ReadonlySet<Member>, preferLeader = false): Member {
    if (preferLeader) {
      const leader = this.members.find((m) => m.id === this.leaderId && m.health === 'healthy' && !exclude?.has(m))
      if (leader) return leader
    }
    let best: Member | undefined
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[(this.preferred + i) % this.members.length]!
      if (exclude?.has(m)) continue
      if (!best || RANK[m.health] < RANK[best.health]) best = m
    }
    best ??= this.members[this.preferred]!
    this.preferred = this.members.indexOf(best)
    return best
  }

  /** Reports a failure a request or stream saw on `member`, so that the next pick avoids it. */
  reportFailure(member: Member, err: unknown): void {
    if (!isServiceError(err)) return
    if (isTransportFailure(err)) member.health = 'down'
    else if (isNoLeader(err)) member.health = 'noLeader'
  }

  /**
   * Reads the TLS files again and, when their contents changed, gives every member a new connection with
   * them; calls already running keep theirs. Returns whether anything changed. Throws (naming the file)
   * when the files do not load, and then changes nothing.
   */
  reloadTls(): boolean {
    const files = readClientTls(this.tls)
    if (this.tlsInUse && sameClientTls(files, this.tlsInUse)) return false
    this.tlsInUse = files
    for (const member of this.members) member.replaceTls(endpointTls(member.endpoint, this.tls, files))
    return true
  }

  /** The calls of a caller with this token. */
  withToken(token: string): Calls {
    return {
      call: (service, method, req, policy) => this.call(service, method, req, policy, token),
      serverStream: (service, method, req) => this.serverStream(service, method, req, token),
    }
  }

  /** One unary call with the policy's retries, all within the request deadline. */
  async call<Res>(service: ServiceName, method: string, req: unknown, policy: RetryPolicy, token?: string): Promise<Res> {
    if (this.closed) throw Errors.clientClosing()
    const deadline = Date.now() + this.requestTimeoutMs
    const tried = new Set<Member>()
    for (;;) {
      const member = this.pick(tried, policy !== 'serializable')
      tried.add(member)
      try {
        // a read may be abandoned and asked elsewhere: one stuck on a follower whose leader just died
        // would otherwise wait for etcd's own 7 s timeout
        const attemptDeadline = policy === 'write' ? deadline : Math.min(deadline, Date.now() + this.readAttemptMs)
        const metadata = withToken(policy === 'serializable' ? new Metadata() : requireLeader(), token)
        return await member.unary<Res>(service, method, req, attemptDeadline, metadata)
      } catch (err) {
        this.reportFailure(member, err)
        if (!isServiceError(err) || this.closed) throw toEtcdError(err)
        const again = policy === 'write' ? neverReachedServer(err) : retryableRead(err) || isDeadline(err)
        if (!again || Date.now() >= deadline) throw toEtcdError(err)
        if (tried.size === this.members.length) {
          tried.clear()
          await sleep(Math.min(RETRY_PAUSE_MS, deadline - Date.now()))
        }
      }
    }
  }

  /** Opens a bidirectional stream on the member `pick` chooses; the caller handles its failure. */
  duplex<Req, Res>(
    service: ServiceName,
    method: string,
    preferLeader = false,
    token?: string,
  ): { member: Member; stream: grpc.ClientDuplexStream<Req, Res> } {
    const member = this.pick(undefined, preferLeader)
    return { member, stream: member.duplex<Req, Res>(service, method, withToken(requireLeader(), token)) }
  }

  /** Starts a server-streaming call on the member `pick` chooses; the caller handles its failure. */
  serverStream<Res>(service: ServiceName, method: string, req: unknown, token?: string): grpc.ClientReadableStream<Res> {
    if (this.closed) throw Errors.clientClosing()
    const member = this.pick()
    const stream = member.serverStream<Res>(service, method, req, withToken(new Metadata(), token))
    stream.on('error', (err) => this.reportFailure(member, err))
    return stream
  }

  /** Each member's endpoint and health as the probes last saw it. */
  health(): { endpoint: string; health: MemberHealth }[] {
    return this.members.map((m) => ({ endpoint: m.endpoint, health: m.health }))
  }

  /** Probes every member once (also run at start-up so the first pick is informed). */
  async probeAll(): Promise<void> {
    await Promise.all(this.members.map((m) => this.probe(m)))
  }

  private async probeDue(): Promise<void> {
    const now = Date.now()
    const due = this.members.filter((m) => m.health !== 'healthy' || now - (this.lastProbe.get(m) ?? 0) >= this.healthIntervalMs)
    await Promise.all(due.map((m) => this.probe(m)))
  }

  close(): void {
    this.closed = true
    clearInterval(this.timer)
    for (const m of this.members) m.close()
  }

  private async probe(member: Member): Promise<void> {
    if (this.probing.has(member) || this.closed) return
    this.probing.add(member)
    this.lastProbe.set(member, Date.now())
    try {
      const deadline = Date.now() + Math.min(1_000, this.requestTimeoutMs)
      const res = await member.unary<PbStatusResponse>('Maintenance', 'Status', {}, deadline, new Metadata())
      member.id = res.header?.member_id ?? ''
      member.health = res.leader === '0' ? 'noLeader' : 'healthy'
      if (res.leader !== '0' && res.leader !== this.leaderId) {
        this.leaderId = res.leader
        this.leaderChangesSeen++
      }
    } catch {
      member.health = 'down'
    } finally {
      this.probing.delete(member)
    }
  }
}

function withToken(metadata: Metadata, token: string | undefined): Metadata {
  if (token !== undefined) metadata.set(TOKEN_METADATA, token)
  return metadata
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
}
