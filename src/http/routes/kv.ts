/** etcd's KV service: POST /v3/kv/{range,put,deleterange,txn,compaction} (/v3beta/ is rewritten to /v3/). */
import type { FastifyPluginAsync } from 'fastify'
import { isReadOnlyTxn } from '../../backend/read-only-txn.js'
import { serveUnary, type UnaryRoutes } from '../rpc.js'

export const kvRoutes: FastifyPluginAsync<UnaryRoutes> = async (app, routes) => {
  serveUnary(app, routes, '/v3/kv/range', { proposal: () => false, call: (req, b) => b.kv.range(req) })
  serveUnary(app, routes, '/v3/kv/put', { proposal: () => true, call: (req, b) => b.kv.put(req) })
  serveUnary(app, routes, '/v3/kv/deleterange', { proposal: () => true, call: (req, b) => b.kv.deleteRange(req) })
  serveUnary(app, routes, '/v3/kv/txn', { proposal: (req) => !isReadOnlyTxn(req), call: (req, b) => b.kv.txn(req) })
  serveUnary(app, routes, '/v3/kv/compaction', { proposal: () => true, call: (req, b) => b.kv.compact(req) })
}
