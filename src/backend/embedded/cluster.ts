import type { Cluster, Member, MemberAddResponse, MemberListResponse, ResponseHeader } from '../backend.js'
import { Errors } from '../../errors.js'

/** etcd's Cluster service for a store that is one member: it lists itself and refuses changes. */
export class EmbeddedCluster implements Cluster {
  constructor(
    private readonly self: Member,
    private readonly header: () => ResponseHeader,
  ) {}

  async memberList(): Promise<MemberListResponse> {
    return { header: this.header(), members: [{ ...this.self }] }
  }

  async memberAdd(): Promise<MemberAddResponse> {
    throw Errors.singleMember()
  }

  async memberRemove(id: bigint): Promise<MemberListResponse> {
    throw this.refusal(id)
  }

  async memberUpdate(id: bigint): Promise<MemberListResponse> {
    throw this.refusal(id)
  }

  async memberPromote(id: bigint): Promise<MemberListResponse> {
    throw this.refusal(id)
  }

  private refusal(id: bigint) {
    return id === this.self.id ? Errors.singleMember() : Errors.memberNotFound()
  }
}
