import { randomBytes } from 'node:crypto'
import type { Database } from 'lmdb'
import type { LeaseGrantRequest } from '../backend.js'
import { Errors } from '../../errors.js'
import type { LeaseAttachments } from './lease-attachments.js'
import type { MvccStore } from './mvcc-store.js'
import { type FileWrites, LEASES } from './logged-writes.js'

/** etcd's MaxLeaseTTL. */
const MAX_LEASE_TTL = 9_000_000_000
/** etcd revokes at most this many expired leases per check (leaseRevokeRate / 2). */
const REVOKE_PER_CHECK = 500

export interface LessorOptions {
  /** etcd: ceil(1.5 × election timeout) = 2 s with the default 1 s election timeout. */
  minTtl: number
  /** How often expiry is checked (etcd: 500 ms). */
  checkIntervalMs: number
  /** Added to every lease's TTL at start-up, as etcd extends leases by an election timeout on promotion. */
  restartExtensionMs: number
  now: () => number
}

export interface LeaseState {
  readonly id: bigint
  readonly ttl: number
  expiry: number
  /** Its revoke is applied but not yet durable: the lease still answers timeToLive, takes no keys or keepalives. */
  revoking: boolean
}

/** What a lessor's metrics learn: leases granted (with their TTL), renewed, revoked, and revoked on expiry. */
export interface LeaseObserver {
  granted(ttl: number): void
  renewed(): void
  revoked(): void
  expired(): void
}

/**
 * etcd's lessor on the embedded store: leases with their TTL persisted in lmdb and expiry checks. Which
 * keys a lease holds is kept by the store as it applies writes (`attachments`).
 */
export class Lessor {
  private readonly leases = new Map<bigint, LeaseState>()
  private timer: NodeJS.Timeout | undefined
  private expiryRevokes: Promise<unknown> = Promise.resolve()
  private observer: LeaseObserver | undefined

  constructor(
    private readonly store: MvccStore,
    private readonly attachments: LeaseAttachments,
    /** The lease table (looked up at each use: defragment replaces the handle). */
    private readonly table: () => Database<number, Buffer>,
    private readonly opts: LessorOptions,
  ) {}

  /** Loads persisted leases (each gets its full TTL again, as etcd's do after a restart). */
  restore(): void {
    const start = this.opts.now() + this.opts.restartExtensionMs
    for (const { key, value } of this.table().getRange({})) {
      const id = Buffer.from(key).readBigInt64BE()
      this.leases.set(id, { id, ttl: value, expiry: start + value * 1000, revoking: false })
    }
    this.timer = setInterval(() => this.revokeExpired(), this.opts.checkIntervalMs)
    this.timer.unref()
  }

  /** Reports grants, renewals and revokes to `observer` from now on. */
  observe(observer: LeaseObserver): void {
    this.observer = observer
  }

  /** Whether keys can be attached to the lease. */
  exists(id: bigint): boolean {
    const lease = this.leases.get(id)
    return lease !== undefined && !lease.revoking
  }

  get(id: bigint): LeaseState | undefined {
    return this.leases.get(id)
  }

  ids(): bigint[] {
    return [...this.leases.keys()]
  }

  /** The keys attached to the lease, in byte order. */
  keysOf(id: bigint): string[] {
    return this.attachments.keysOf(id)
  }

  async grant(req: LeaseGrantRequest): Promise<LeaseState> {
    if (req.ttl > MAX_LEASE_TTL) throw Errors.leaseTTLTooLarge()
    let id = req.id
    if (id === 0n) {
      do id = randomBytes(8).readBigInt64BE() & 0x7fff_ffff_ffff_ffffn
      while (id === 0n || this.leases.has(id))
    } else if (this.leases.has(id)) {
      throw Errors.leaseExists()
    }
    const ttl = Math.max(req.ttl, this.opts.minTtl)
    const lease: LeaseState = { id, ttl, expiry: this.opts.now() + ttl * 1000, revoking: false }
    this.leases.set(id, lease)
    try {
      await this.store.persistOther((w) => w.put(LEASES, leaseKey(id), ttl))
    } catch (err) {
      this.leases.delete(id)
      throw err
    }
    this.observer?.granted(ttl)
    return lease
  }

  /** Returns the granted TTL, or undefined when the lease does not exist (or has just expired). */
  keepAlive(id: bigint): number | undefined {
    const lease = this.leases.get(id)
    if (!lease || lease.revoking || lease.expiry <= this.opts.now()) return undefined
    lease.expiry = this.opts.now() + lease.ttl * 1000
    this.observer?.renewed()
    return lease.ttl
  }

  /** Remaining whole seconds (truncated, as etcd). */
  remaining(lease: LeaseState): number {
    return Math.max(0, Math.trunc((lease.expiry - this.opts.now()) / 1000))
  }

  /**
   * Deletes the lease's keys in one revision and the lease row in the same lmdb transaction. The lease
   * leaves the lessor at the moment that revision becomes readable (etcd removes it in the same apply
   * as the keys): nobody sees the lease gone while its keys are still there.
   */
  async revoke(id: bigint): Promise<void> {
    const lease = this.leases.get(id)
    if (!lease || lease.revoking) throw Errors.leaseNotFound()
    lease.revoking = true
    const txn = this.store.write()
    for (const key of this.attachments.keysOf(id)) txn.deleteRange(Buffer.from(key, 'latin1'), undefined)
    const removeRow = (w: FileWrites) => w.remove(LEASES, leaseKey(id))
    try {
      await txn.end(removeRow, () => this.leases.delete(id))
    } catch (err) {
      lease.revoking = false
      throw err
    }
    this.observer?.revoked()
  }

  async close(): Promise<void> {
    clearInterval(this.timer)
    await this.expiryRevokes
  }

  private revokeExpired(): void {
    const now = this.opts.now()
    const expired: bigint[] = []
    for (const lease of this.leases.values()) {
      if (lease.expiry <= now && !lease.revoking) expired.push(lease.id)
      if (expired.length >= REVOKE_PER_CHECK) break
    }
    if (expired.length === 0) return
    this.expiryRevokes = Promise.allSettled(expired.map((id) => this.revoke(id).then(() => this.observer?.expired())))
  }
}

function leaseKey(id: bigint): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeBigInt64BE(id)
  return b
}
