/** etcd's KV service: POST /v3/kv/{range,put,deleterange,txn,compaction} (/v3beta/ is rewritten to /v3/). */
import type { FastifyPluginAsync } from 'fastify'
import type { Backend, RequestOp, TxnRequest } from '../../backend/backend.js'
import { decodeCompaction, decodeDeleteRange, decodePut, decodeRange, decodeTxn } from '../codec/request.js'
import {
  encodeCompactionResponse,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeTxnResponse,
} from '../codec/response.js'
import { type RequestLimits, unaryHandler } from '../rpc.js'

export interface KvRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

const isRange = (op: RequestOp) => op.kind === 'range'

/** etcd serves a txn of ranges only (nested txns do not count) without raft: no proposal size check. */
const isReadOnlyTxn = (txn: TxnRequest) => txn.success.every(isRange) && txn.failure.every(isRange)

export const kvRoutes: FastifyPluginAsync<KvRoutesOptions> = async (app, { backend, limits }) => {
  const kv = backend.kv
  app.post(
    '/v3/kv/range',
    unaryHandler(limits, {
      decode: decodeRange,
      proposal: () => false,
      call: (req) => kv.range(req),
      encode: encodeRangeResponse,
    }),
  )
  app.post(
    '/v3/kv/put',
    unaryHandler(limits, {
      decode: decodePut,
      proposal: () => true,
      call: (req) => kv.put(req),
      encode: encodePutResponse,
    }),
  )
  app.post(
    '/v3/kv/deleterange',
    unaryHandler(limits, {
      decode: decodeDeleteRange,
      proposal: () => true,
      call: (req) => kv.deleteRange(req),
      encode: encodeDeleteRangeResponse,
    }),
  )
  app.post(
    '/v3/kv/txn',
    unaryHandler(limits, {
      decode: decodeTxn,
      proposal: (req) => !isReadOnlyTxn(req),
      call: (req) => kv.txn(req),
      encode: encodeTxnResponse,
    }),
  )
  app.post(
    '/v3/kv/compaction',
    unaryHandler(limits, {
      decode: decodeCompaction,
      proposal: () => true,
      call: (req) => kv.compact(req),
      encode: encodeCompactionResponse,
    }),
  )
}
