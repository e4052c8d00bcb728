/** etcd's Cluster service: POST /v3/cluster/member/{list,add,remove,update,promote}. */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import { type RequestLimits, serveUnary } from '../rpc.js'

export interface ClusterRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

export const clusterRoutes: FastifyPluginAsync<ClusterRoutesOptions> = async (app, { backend, limits }) => {
  const c = backend.cluster
  const proposal = () => false
  serveUnary(app, limits, '/v3/cluster/member/list', { proposal, call: () => c.memberList() })
  serveUnary(app, limits, '/v3/cluster/member/add', { proposal, call: (req) => c.memberAdd(req.peerUrls, req.isLearner) })
  serveUnary(app, limits, '/v3/cluster/member/remove', { proposal, call: (req) => c.memberRemove(req.id) })
  serveUnary(app, limits, '/v3/cluster/member/update', { proposal, call: (req) => c.memberUpdate(req.id, req.peerUrls) })
  serveUnary(app, limits, '/v3/cluster/member/promote', { proposal, call: (req) => c.memberPromote(req.id) })
}
