import type {
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KV,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../backend.js'
import { txnWritesNothing } from '../read-only-txn.js'
import * as convert from './convert.js'
import type { Calls } from './endpoint-pool.js'
import type { PbDeleteRangeResponse, PbHeaderOnly, PbPutResponse, PbRangeResponse, PbTxnResponse } from './messages.js'

/** etcd's KV service, forwarded to the cluster; reads retry on another member, writes only when provably unsent. */
export class RemoteKV implements KV {
  constructor(private readonly pool: Calls) {}

  async range(req: RangeRequest): Promise<RangeResponse> {
    const policy = req.serializable ? 'serializable' : 'read'
    return convert.rangeResponse(await this.pool.call<PbRangeResponse>('KV', 'Range', convert.rangeRequest(req), policy))
  }

  async put(req: PutRequest): Promise<PutResponse> {
    return convert.putResponse(await this.pool.call<PbPutResponse>('KV', 'Put', convert.putRequest(req), 'write'))
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    const res = await this.pool.call<PbDeleteRangeResponse>('KV', 'DeleteRange', convert.deleteRangeRequest(req), 'write')
    return convert.deleteRangeResponse(res)
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    const policy = txnWritesNothing(req) ? 'read' : 'write'
    return convert.txnResponse(await this.pool.call<PbTxnResponse>('KV', 'Txn', convert.txnRequest(req), policy))
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const res = await this.pool.call<PbHeaderOnly>('KV', 'Compact', convert.compactionRequest(req), 'write')
    return { header: convert.header(res.header) }
  }
}
