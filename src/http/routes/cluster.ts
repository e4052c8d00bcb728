/** etcd's Cluster service: POST /v3/cluster/member/{list,add,remove,update,promote}. */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import { decoders, encoders } from '../codec/codecs.js'
import { type RequestLimits, unaryHandler } from '../rpc.js'

export interface ClusterRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

export const clusterRoutes: FastifyPluginAsync<ClusterRoutesOptions> = async (app, { backend, limits }) => {
  const c = backend.cluster
  app.post(
    '/v3/cluster/member/list',
    unaryHandler(limits, {
      decode: decoders.MemberListRequest,
      proposal: () => false,
      call: () => c.memberList(),
      encode: encoders.MemberListResponse,
    }),
  )
  app.post(
    '/v3/cluster/member/add',
    unaryHandler(limits, {
      decode: decoders.MemberAddRequest,
      proposal: () => false,
      call: (req) => c.memberAdd(req.peerUrls, req.isLearner),
      encode: encoders.MemberAddResponse,
    }),
  )
  app.post(
    '/v3/cluster/member/remove',
    unaryHandler(limits, {
      decode: decoders.MemberRemoveRequest,
      proposal: () => false,
      call: (req) => c.memberRemove(req.id),
      encode: encoders.MemberRemoveResponse,
    }),
  )
  app.post(
    '/v3/cluster/member/update',
    unaryHandler(limits, {
      decode: decoders.MemberUpdateRequest,
      proposal: () => false,
      call: (req) => c.memberUpdate(req.id, req.peerUrls),
      encode: encoders.MemberUpdateResponse,
    }),
  )
  app.post(
    '/v3/cluster/member/promote',
    unaryHandler(limits, {
      decode: decoders.MemberPromoteRequest,
      proposal: () => false,
      call: (req) => c.memberPromote(req.id),
      encode: encoders.MemberPromoteResponse,
    }),
  )
}
