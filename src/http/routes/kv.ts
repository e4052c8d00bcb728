/** etcd's KV service: POST /v3/kv/{range,put,deleterange,txn,compaction} (/v3beta/ is rewritten to /v3/). */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend } from '../../backend/backend.js'
import { isReadOnlyTxn } from '../../backend/read-only-txn.js'
import { decoders, encoders } from '../codec/codecs.js'
import { type RequestLimits, unaryHandler } from '../rpc.js'

export interface KvRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

export const kvRoutes: FastifyPluginAsync<KvRoutesOptions> = async (app, { backend, limits }) => {
  const kv = backend.kv
  app.post(
    '/v3/kv/range',
    unaryHandler(limits, {
      decode: decoders.RangeRequest,
      proposal: () => false,
      call: (req) => kv.range(req),
      encode: encoders.RangeResponse,
    }),
  )
  app.post(
    '/v3/kv/put',
    unaryHandler(limits, {
      decode: decoders.PutRequest,
      proposal: () => true,
      call: (req) => kv.put(req),
      encode: encoders.PutResponse,
    }),
  )
  app.post(
    '/v3/kv/deleterange',
    unaryHandler(limits, {
      decode: decoders.DeleteRangeRequest,
      proposal: () => true,
      call: (req) => kv.deleteRange(req),
      encode: encoders.DeleteRangeResponse,
    }),
  )
  app.post(
    '/v3/kv/txn',
    unaryHandler(limits, {
      decode: decoders.TxnRequest,
      proposal: (req) => !isReadOnlyTxn(req),
      call: (req) => kv.txn(req),
      encode: encoders.TxnResponse,
    }),
  )
  app.post(
    '/v3/kv/compaction',
    unaryHandler(limits, {
      decode: decoders.CompactionRequest,
      proposal: () => true,
      call: (req) => kv.compact(req),
      encode: encoders.CompactionResponse,
    }),
  )
}
