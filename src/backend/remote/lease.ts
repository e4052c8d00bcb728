import type {
  Lease,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../backend.js'
import * as convert from './convert.js'
import type { Calls } from './endpoint-pool.js'
import type { KeepAlives } from './keepalives-by-token.js'
import type { PbHeaderOnly, PbLeaseGrantResponse, PbLeaseLeasesResponse, PbLeaseTimeToLiveResponse } from './messages.js'

/** etcd's Lease service, forwarded: grant and revoke are writes, time-to-live and list are reads. */
export class RemoteLease implements Lease {
  constructor(
    private readonly pool: Calls,
    private readonly keepAlives: KeepAlives,
  ) {}

  async grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    const res = await this.pool.call<PbLeaseGrantResponse>('Lease', 'LeaseGrant', { TTL: req.ttl, ID: convert.idOut(req.id) }, 'write')
    return convert.leaseGrantResponse(res)
  }

  async revoke(id: bigint): Promise<LeaseRevokeResponse> {
    const res = await this.pool.call<PbHeaderOnly>('Lease', 'LeaseRevoke', { ID: convert.idOut(id) }, 'write')
    return { header: convert.header(res.header) }
  }

  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    return this.keepAlives.keepAlive(id)
  }

  async timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    const res = await this.pool.call<PbLeaseTimeToLiveResponse>(
      'Lease',
      'LeaseTimeToLive',
      { ID: convert.idOut(req.id), keys: req.keys },
      'read',
    )
    return convert.leaseTimeToLiveResponse(res)
  }

  async leases(): Promise<LeaseLeasesResponse> {
    return convert.leaseLeasesResponse(await this.pool.call<PbLeaseLeasesResponse>('Lease', 'LeaseLeases', {}, 'read'))
  }
}
