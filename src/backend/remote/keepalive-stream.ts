import type * as grpc from '@grpc/grpc-js'
import type { LeaseKeepAliveResponse } from '../backend.js'
import { Errors, GrpcCode, type EtcdError } from '../../errors.js'
import { idOut, leaseKeepAliveResponse } from './convert.js'
import { sleep, type EndpointPool } from './endpoint-pool.js'
import { toEtcdError } from './errors.js'
import type { Member } from './member.js'
import type { Int64, PbLeaseKeepAliveResponse } from './messages.js'

interface Waiter {
  resolve(res: LeaseKeepAliveResponse): void
  reject(err: EtcdError): void
  timer: NodeJS.Timeout
}

/**
 * A stream that answers nothing for this long is given up and its keepalives sent again elsewhere:
 * a follower whose leader just died holds forwarded keepalives until etcd's own 7 s timeout.
 */
const STALL_MS = 1_000

type Upstream = grpc.ClientDuplexStream<{ ID: string }, PbLeaseKeepAliveResponse>

/**
 * Every keepalive of the gateway on ONE upstream LeaseKeepAlive stream. etcd answers each request
 * with a message carrying the lease ID, so answers go to the callers of that ID in order. A
 * keepalive is idempotent: after the stream breaks, unanswered ones are sent again on a new stream.
 */
export class KeepAliveStream {
  private upstream: { member: Member; stream: Upstream } | undefined
  private readonly waiting = new Map<Int64, Waiter[]>()
  /** answers still due for callers that timed out: they must not be given to later callers */
  private readonly orphans = new Map<Int64, number>()
  private reconnecting = false
  private lastAnswerAt = 0
  private closed = false

  constructor(
    private readonly pool: EndpointPool,
    /** The token the upstream stream carries (its opener's). */
    private readonly token?: string,
  ) {}

  /** Keepalives are waiting for their answers. */
  get busy(): boolean {
    return this.waiting.size > 0
  }

  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    if (this.closed) return Promise.reject(Errors.clientClosing())
    const key = idOut(id)
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => this.expire(key, waiter), this.pool.requestTimeoutMs),
      }
      const list = this.waiting.get(key)
      if (list) list.push(waiter)
      else this.waiting.set(key, [waiter])
      if (!this.reconnecting) this.send(key)
    })
  }

  close(): void {
    this.closed = true
    this.upstream?.stream.cancel()
    this.upstream = undefined
    for (const list of this.waiting.values()) {
      for (const w of list) {
        clearTimeout(w.timer)
        w.reject(Errors.clientClosing())
      }
    }
    this.waiting.clear()
  }

  private stream(): Upstream {
    if (this.upstream) return this.upstream.stream
    const upstream = this.pool.duplex<{ ID: string }, PbLeaseKeepAliveResponse>('Lease', 'LeaseKeepAlive', true, this.token)
    this.upstream = upstream
    upstream.stream.on('data', (res: PbLeaseKeepAliveResponse) => this.answer(res))
    upstream.stream.on('error', (err: Error) => this.broken(upstream, err))
    upstream.stream.on('end', () => this.broken(upstream, Errors.transportClosing()))
    return upstream.stream
  }

  private send(key: Int64): void {
    const upstream = this.stream()
    upstream.write({ ID: key })
    const sentAt = Date.now()
    setTimeout(() => {
      if (this.upstream?.stream === upstream && this.lastAnswerAt < sentAt && this.waiting.size > 0) {
        void this.broken(this.upstream, Errors.timeout())
      }
    }, STALL_MS).unref()
  }

  private answer(res: PbLeaseKeepAliveResponse): void {
    this.lastAnswerAt = Date.now()
    const orphans = this.orphans.get(res.ID) ?? 0
    if (orphans > 0) {
      this.orphans.set(res.ID, orphans - 1)
      return
    }
    const list = this.waiting.get(res.ID)
    const waiter = list?.shift()
    if (list?.length === 0) this.waiting.delete(res.ID)
    if (!waiter) return
    clearTimeout(waiter.timer)
    waiter.resolve(leaseKeepAliveResponse(res))
  }

  private expire(key: Int64, waiter: Waiter): void {
    const list = this.waiting.get(key)
    const i = list?.indexOf(waiter) ?? -1
    if (i < 0) return
    list!.splice(i, 1)
    if (list!.length === 0) this.waiting.delete(key)
    this.orphans.set(key, (this.orphans.get(key) ?? 0) + 1)
    waiter.reject(Errors.timeout())
  }

  private async broken(upstream: { member: Member; stream: Upstream }, err: unknown): Promise<void> {
    if (this.upstream !== upstream || this.closed) return
    this.upstream = undefined
    upstream.stream.cancel()
    this.pool.reportFailure(upstream.member, err)
    this.orphans.clear()
    if (this.waiting.size === 0) return
    // anything but unavailability (a lost member, no leader) is the callers' answer
    const etcdError = toEtcdError(err)
    if (etcdError.grpcCode !== GrpcCode.Unavailable) {
      for (const list of this.waiting.values()) {
        for (const w of list) {
          clearTimeout(w.timer)
          w.reject(etcdError)
        }
      }
      this.waiting.clear()
      return
    }
    this.reconnecting = true
    await sleep(50)
    this.reconnecting = false
    if (this.closed || this.waiting.size === 0) return
    for (const [key, list] of this.waiting) for (let i = 0; i < list.length; i++) this.send(key)
  }
}
