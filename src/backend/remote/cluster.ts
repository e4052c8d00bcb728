import type { Cluster, Member, MemberAddResponse, MemberListResponse } from '../backend.js'
import { header, idOut } from './convert.js'
import type { Calls } from './endpoint-pool.js'
import type { PbMember, PbMemberAddResponse, PbMemberListResponse } from './messages.js'

const member = (m: PbMember): Member => ({
  id: BigInt(m.ID),
  name: m.name,
  peerUrls: m.peerURLs,
  clientUrls: m.clientURLs,
  isLearner: m.isLearner,
})

const list = (res: PbMemberListResponse): MemberListResponse => ({ header: header(res.header), members: res.members.map(member) })
const uint64 = (id: bigint) => idOut(BigInt.asUintN(64, id))

/** etcd's Cluster service, forwarded: the list from any member, changes through the leader. */
export class RemoteCluster implements Cluster {
  constructor(private readonly pool: Calls) {}

  async memberList(): Promise<MemberListResponse> {
    return list(await this.pool.call<PbMemberListResponse>('Cluster', 'MemberList', {}, 'serializable'))
  }

  async memberAdd(peerUrls: string[], isLearner: boolean): Promise<MemberAddResponse> {
    const res = await this.pool.call<PbMemberAddResponse>('Cluster', 'MemberAdd', { peerURLs: peerUrls, isLearner }, 'write')
    const added = res.member ? member(res.member) : { id: 0n, name: '', peerUrls: [], clientUrls: [], isLearner: false }
    return { ...list(res), member: added }
  }

  async memberRemove(id: bigint): Promise<MemberListResponse> {
    return list(await this.pool.call<PbMemberListResponse>('Cluster', 'MemberRemove', { ID: uint64(id) }, 'write'))
  }

  async memberUpdate(id: bigint, peerUrls: string[]): Promise<MemberListResponse> {
    return list(await this.pool.call<PbMemberListResponse>('Cluster', 'MemberUpdate', { ID: uint64(id), peerURLs: peerUrls }, 'write'))
  }

  async memberPromote(id: bigint): Promise<MemberListResponse> {
    return list(await this.pool.call<PbMemberListResponse>('Cluster', 'MemberPromote', { ID: uint64(id) }, 'write'))
  }
}
