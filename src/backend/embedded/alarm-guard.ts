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
import { Errors } from '../../errors.js'
import { isReadOnlyTxn } from '../read-only-txn.js'
import type { AlarmStore } from './alarm-store.js'

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
  /** The backend file's size now (etcd compares the file, not the bytes in use). */
  dbSize: () => number
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
   * always passes). Synchronous, as every write asks: the refusal is the rare, asynchronous part.
   */
  private exceedsQuota(cost: number): boolean {
    return cost !== 0 && this.opts.quotaBytes > 0 && this.opts.dbSize() + cost >= this.opts.quotaBytes
  }

  /** Raises NOSPACE, then fails the request. */
  private async refuseNoSpace(): Promise<never> {
    await this.alarms.activate(this.opts.memberId, AlarmType.NOSPACE)
    throw Errors.noSpace()
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
        if (this.exceedsQuota(costPut(req))) return this.refuseNoSpace()
        this.checkWrite(true)
        return inner.put(req)
      },
      deleteRange: async (req: DeleteRangeRequest): Promise<DeleteRangeResponse> => {
        this.checkWrite(false)
        return inner.deleteRange(req)
      },
      txn: async (req: TxnRequest): Promise<TxnResponse> => {
        const cost = costTxn(req)
        if (this.exceedsQuota(cost)) return this.refuseNoSpace()
        if (!isReadOnlyTxn(req)) this.checkWrite(cost > 0)
        return inner.txn(req)
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
        return inner.grant(req)
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
