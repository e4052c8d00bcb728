/** etcd's Cluster service: POST /v3/cluster/member/{list,add,remove,update,promote}. */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import {
  decodeEmpty,
  decodeMemberAdd,
  decodeMemberId,
  encodeMemberAddResponse,
  encodeMemberListResponse,
} from '../codec/maintenance.js'
import { type RequestLimits, unaryHandler } from '../rpc.js'

export interface ClusterRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

export const clusterRoutes: FastifyPluginAsync<ClusterRoutesOptions> = async (app, { backend, limits }) => {
  const c = backend.cluster
  const list = encodeMemberListResponse
  app.post(
    '/v3/cluster/member/list',
    unaryHandler(limits, { decode: decodeEmpty, proposal: () => false, call: () => c.memberList(), encode: list }),
  )
  app.post(
    '/v3/cluster/member/add',
    unaryHandler(limits, {
      decode: decodeMemberAdd,
      proposal: () => false,
      call: (req) => c.memberAdd(req.peerUrls, req.isLearner),
      encode: encodeMemberAddResponse,
    }),
  )
  app.post(
    '/v3/cluster/member/remove',
    unaryHandler(limits, { decode: decodeMemberId, proposal: () => false, call: (req) => c.memberRemove(req.id), encode: list }),
  )
  app.post(
    '/v3/cluster/member/update',
    unaryHandler(limits, {
      decode: decodeMemberId,
      proposal: () => false,
      call: (req) => c.memberUpdate(req.id, req.peerUrls),
      encode: list,
    }),
  )
  app.post(
    '/v3/cluster/member/promote',
    unaryHandler(limits, { decode: decodeMemberId, proposal: () => false, call: (req) => c.memberPromote(req.id), encode: list }),
  )
}
