/** etcd's KV service: POST /v3/kv/{range,put,deleterange,txn,compaction} (/v3beta/ is rewritten to /v3/). */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import { isReadOnlyTxn } from '../../backend/read-only-txn.js'
import { type RequestLimits, serveUnary } from '../rpc.js'

export interface KvRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

export const kvRoutes: FastifyPluginAsync<KvRoutesOptions> = async (app, { backend, limits }) => {
  const kv = backend.kv
  serveUnary(app, limits, '/v3/kv/range', { proposal: () => false, call: (req) => kv.range(req) })
  serveUnary(app, limits, '/v3/kv/put', { proposal: () => true, call: (req) => kv.put(req) })
  serveUnary(app, limits, '/v3/kv/deleterange', { proposal: () => true, call: (req) => kv.deleteRange(req) })
  serveUnary(app, limits, '/v3/kv/txn', { proposal: (req) => !isReadOnlyTxn(req), call: (req) => kv.txn(req) })
  serveUnary(app, limits, '/v3/kv/compaction', { proposal: () => true, call: (req) => kv.compact(req) })
}
