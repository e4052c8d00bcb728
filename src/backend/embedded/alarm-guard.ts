import {
  AlarmType,
  type CompactionRequest,
  type CompactionResponse,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KV,
  type Lease,
  type LeaseGrantRequest,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
  type LeaseLeasesResponse,
  type LeaseRevokeResponse,
  type LeaseTimeToLiveRequest,
  type LeaseTimeToLiveResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
} from '../backend.js'
import { EtcdError, Errors } from '../../errors.js'
import { isReadOnlyTxn } from '../read-only-txn.js'
import type { AlarmStore } from './alarm-store.js'

/**
 * Room kept on the data dir's file system: a growing write that would leave less raises NOSPACE before
 * lmdb can fail for want of space. (etcd 3.4 stops on a full disk: "cannot commit tx ... no space left
 * on device" is fatal there.)
 */
export const DISK_RESERVE_BYTES = 4 * 1024 * 1024
/**
 * Farther than this from the quota or the disk's reserve, a write is checked against a size or free space
 * up to RECENT_MS old: more than the disk writes in that time.
 */
const NEAR_LIMIT_BYTES = 256 * 1024 * 1024

/** etcd's estimates of what a write adds to the backend (etcdserver/quota.go). */
const KV_OVERHEAD = 256
const LEASE_OVERHEAD = 64

const costPut = (r: PutRequest) => KV_OVERHEAD + r.key.length + r.value.length
const costOps = (ops: RequestOp[]) => ops.reduce((sum, op) => sum + (op.kind === 'put' ? costPut(op.request) : 0), 0)
/** Only a branch's own puts count, not those of nested txns (as etcd 3.4 counts). */
const costTxn = (r: TxnRequest) => Math.max(costOps(r.success), costOps(r.failure))

export interface QuotaOptions {
  /** etcd's --quota-backend-bytes after defaults: <= 0 means no quota. */
  quotaBytes: number
  /** The backend file's size (etcd compares the file, not the bytes in use); with `recent`, a figure up to RECENT_MS old. */
  dbSize: (recent?: boolean) => number
  /** Bytes left on the file system that holds the backend file; with `recent`, a figure up to RECENT_MS old. */
  diskFree: (recent?: boolean) => number
  memberId: bigint
}

/**
 * etcd's quota check and alarm appliers around the embedded services. A write that would take the
 * file past the quota raises NOSPACE; under NOSPACE, puts and lease grants fail while reads, deletes
 * and compaction work; under CORRUPT every write fails and reads work.
 */
export class AlarmGuard {
  constructor(
    private readonly alarms: AlarmStore,
    private readonly opts: QuotaOptions,
  ) {}

  /**
   * etcd's quotaKVServer/quotaLeaseServer: whether a mutating request of this cost is refused (cost 0
   * always passes), by the quota or by the disk. Synchronous, as every write asks: the refusal is the
   * rare, asynchronous part.
   */
  private exceedsQuota(cost: number): boolean {
    if (cost === 0) return false
    const { quotaBytes, dbSize, diskFree } = this.opts
    // a recent figure shows the write far from the limit; near it, the figure after the last write decides
    if (quotaBytes > 0) {
      const far = dbSize(true) + cost + NEAR_LIMIT_BYTES < quotaBytes
      if (!far && dbSize() + cost >= quotaBytes) return true
    }
    const roomy = diskFree(true) >= cost + DISK_RESERVE_BYTES + NEAR_LIMIT_BYTES
    return !roomy && diskFree() < cost + DISK_RESERVE_BYTES
  }

  /**
   * Raises NOSPACE, then fails the request. The alarm stands even when the disk is too full to record it
   * (it is then lost at a restart, where the disk check raises it again).
   */
  private async refuseNoSpace(): Promise<never> {
    await this.alarms.activate(this.opts.memberId, AlarmType.NOSPACE).catch(() => undefined)
    throw Errors.noSpace()
  }

  /**
   * A growing write that could not be persisted (it was taken back) is a NOSPACE refusal when the disk
   * has filled up meanwhile; any other failure is passed on.
   */
  private whenDiskFull<T>(cost: number, written: Promise<T>): Promise<T> {
    return written.catch((err: unknown) => {
      const full = err instanceof EtcdError && err.code === Errors.persistFailed.code && this.exceedsQuota(cost)
      if (full) return this.refuseNoSpace()
      throw err
    })
  }

  /** The alarm appliers: `grows` for requests that add data (puts, lease grants). */
  checkWrite(grows: boolean): void {
    if (this.alarms.has(AlarmType.CORRUPT)) throw Errors.corrupt()
    if (grows && this.alarms.has(AlarmType.NOSPACE)) throw Errors.noSpace()
  }

  kv(inner: KV): KV {
    return {
      range: (req: RangeRequest): Promise<RangeResponse> => inner.range(req),
      put: async (req: PutRequest): Promise<PutResponse> => {
        const cost = costPut(req)
        if (this.exceedsQuota(cost)) return this.refuseNoSpace()
        this.checkWrite(true)
        return this.whenDiskFull(cost, inner.put(req))
      },
      deleteRange: async (req: DeleteRangeRequest): Promise<DeleteRangeResponse> => {
        this.checkWrite(false)
        return inner.deleteRange(req)
      },
      txn: async (req: TxnRequest): Promise<TxnResponse> => {
        const cost = costTxn(req)
        if (this.exceedsQuota(cost)) return this.refuseNoSpace()
        if (isReadOnlyTxn(req)) return inner.txn(req)
        this.checkWrite(cost > 0)
        return this.whenDiskFull(cost, inner.txn(req))
      },
      compact: async (req: CompactionRequest): Promise<CompactionResponse> => {
        this.checkWrite(false)
        return inner.compact(req)
      },
    }
  }

  lease(inner: Lease): Lease {
    return {
      grant: async (req: LeaseGrantRequest): Promise<LeaseGrantResponse> => {
        if (this.exceedsQuota(LEASE_OVERHEAD)) return this.refuseNoSpace()
        this.checkWrite(true)
        return this.whenDiskFull(LEASE_OVERHEAD, inner.grant(req))
      },
      revoke: async (id: bigint): Promise<LeaseRevokeResponse> => {
        this.checkWrite(false)
        return inner.revoke(id)
      },
      keepAlive: (id: bigint): Promise<LeaseKeepAliveResponse> => inner.keepAlive(id),
      timeToLive: (req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> => inner.timeToLive(req),
      leases: (): Promise<LeaseLeasesResponse> => inner.leases(),
    }
  }
}
