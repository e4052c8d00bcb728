import type {
  Lease,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../../backend.js'
import type { Replica } from './replica.js'

/**
 * etcd's Lease service, forwarded; a revoke deletes the lease's keys at a new revision, so its answer
 * waits for the replica as a write's does. Time-to-live is etcd's alone (the replica keeps no leases).
 */
export class ReplicaLease implements Lease {
  constructor(
    private readonly remote: Lease,
    private readonly replica: Replica,
    private readonly writeWaitMs: number,
  ) {}

  grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse> {
    return this.remote.grant(req)
  }

  async revoke(id: bigint): Promise<LeaseRevokeResponse> {
    const resp = await this.remote.revoke(id)
    await this.replica.caughtUpForWrite(resp.header.revision, this.writeWaitMs)
    return resp
  }

  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse> {
    return this.remote.keepAlive(id)
  }

  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    return this.remote.timeToLive(req)
  }

  leases(): Promise<LeaseLeasesResponse> {
    return this.remote.leases()
  }
}
