/** etcd's Cluster service: POST /v3/cluster/member/{list,add,remove,update,promote}. */
import type { FastifyPluginAsync } from 'fastify'
import { serveUnary, type UnaryRoutes } from '../rpc.js'

export const clusterRoutes: FastifyPluginAsync<UnaryRoutes> = async (app, routes) => {
  const proposal = () => false
  serveUnary(app, routes, '/v3/cluster/member/list', { proposal, call: (_req, b) => b.cluster.memberList() })
  serveUnary(app, routes, '/v3/cluster/member/add', { proposal, call: (req, b) => b.cluster.memberAdd(req.peerUrls, req.isLearner) })
  serveUnary(app, routes, '/v3/cluster/member/remove', { proposal, call: (req, b) => b.cluster.memberRemove(req.id) })
  serveUnary(app, routes, '/v3/cluster/member/update', { proposal, call: (req, b) => b.cluster.memberUpdate(req.id, req.peerUrls) })
  serveUnary(app, routes, '/v3/cluster/member/promote', { proposal, call: (req, b) => b.cluster.memberPromote(req.id) })
}
