/**
 * etcd's Auth service: POST /v3/auth/{enable,disable,authenticate}, /v3/auth/user/{add,get,list,delete,
 * changepw,grant,revoke} and /v3/auth/role/{add,get,list,delete,grant,revoke}. etcd sends every one of
 * them through raft.
 */
import type { FastifyPluginAsync } from 'fastify'
import { serveUnary, type UnaryRoutes } from '../rpc.js'

export const authRoutes: FastifyPluginAsync<UnaryRoutes> = async (app, routes) => {
  const proposal = () => true
  serveUnary(app, routes, '/v3/auth/enable', { proposal, call: (_req, b) => b.auth.enable() })
  serveUnary(app, routes, '/v3/auth/disable', { proposal, call: (_req, b) => b.auth.disable() })
  serveUnary(app, routes, '/v3/auth/authenticate', { proposal, call: (req, b) => b.auth.authenticate(req) })
  serveUnary(app, routes, '/v3/auth/user/add', { proposal, call: (req, b) => b.auth.userAdd(req) })
  serveUnary(app, routes, '/v3/auth/user/get', { proposal, call: (req, b) => b.auth.userGet(req) })
  serveUnary(app, routes, '/v3/auth/user/list', { proposal, call: (_req, b) => b.auth.userList() })
  serveUnary(app, routes, '/v3/auth/user/delete', { proposal, call: (req, b) => b.auth.userDelete(req) })
  serveUnary(app, routes, '/v3/auth/user/changepw', { proposal, call: (req, b) => b.auth.userChangePassword(req) })
  serveUnary(app, routes, '/v3/auth/user/grant', { proposal, call: (req, b) => b.auth.userGrantRole(req) })
  serveUnary(app, routes, '/v3/auth/user/revoke', { proposal, call: (req, b) => b.auth.userRevokeRole(req) })
  serveUnary(app, routes, '/v3/auth/role/add', { proposal, call: (req, b) => b.auth.roleAdd(req) })
  serveUnary(app, routes, '/v3/auth/role/get', { proposal, call: (req, b) => b.auth.roleGet(req) })
  serveUnary(app, routes, '/v3/auth/role/list', { proposal, call: (_req, b) => b.auth.roleList() })
  serveUnary(app, routes, '/v3/auth/role/delete', { proposal, call: (req, b) => b.auth.roleDelete(req) })
  serveUnary(app, routes, '/v3/auth/role/grant', { proposal, call: (req, b) => b.auth.roleGrantPermission(req) })
  serveUnary(app, routes, '/v3/auth/role/revoke', { proposal, call: (req, b) => b.auth.roleRevokePermission(req) })
}
