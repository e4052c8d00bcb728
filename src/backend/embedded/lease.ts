import type {
  Lease,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  ResponseHeader,
} from '../backend.js'
import type { Lessor } from './lessor.js'

/** etcd's Lease service over the embedded lessor; headers carry the current revision, as etcd fills them. */
export class EmbeddedLease implements Lease {
  constructor(
    private readonly lessor: Lessor,
    private readonly header: () => ResponseHeader,
  ) {}

  async grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    const lease = await this.lessor.grant(req)
    return { header: this.header(), id: lease.id, ttl: lease.ttl }
  }

  async revoke(id: bigint): Promise<LeaseRevokeResponse> {
    await this.lessor.revoke(id)
    return { header: this.header() }
  }

  async keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    return { header: this.header(), id, ttl: this.lessor.keepAlive(id) ?? 0 }
  }

  async timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    const lease = this.lessor.get(req.id)
    if (!lease) return { header: this.header(), id: req.id, ttl: -1, grantedTtl: 0, keys: [] }
    return {
      header: this.header(),
      id: lease.id,
      ttl: this.lessor.remaining(lease),
      grantedTtl: lease.ttl,
      keys: req.keys ? this.lessor.keysOf(lease.id).map((k) => Buffer.from(k, 'latin1')) : [],
    }
  }

  async leases(): Promise<LeaseLeasesResponse> {
    return { header: this.header(), leases: this.lessor.ids().map((id) => ({ id })) }
  }
}
