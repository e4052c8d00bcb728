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
} from '../../backend.js'
import { applyRange } from '../../embedded/kv.js'
import { checkRangeRequest } from '../../embedded/request-checks.js'
import { rangeEndOf } from '../../key-range.js'
import type { ReadView } from '../../embedded/views.js'
import type { Replica } from './replica.js'

export interface ReplicaKVOptions {
  /** The longest a linearizable read waits for the replica before it asks etcd instead. */
  readWaitMs: number
  /** The longest a write's answer waits for the replica to apply it. */
  writeWaitMs: number
}

/**
 * etcd's KV service with reads answered from the replica: a linearizable read once the replica holds the
 * revision of a quorum read sent after the read arrived, a serializable one at once. Writes go to etcd and
 * answer once the replica has applied them, so a read through this gateway sees them. Whatever the
 * replica cannot answer (keys it does not keep, a revision it does not hold, a read-only txn) goes to etcd.
 */
export class ReplicaKV implements KV {
  constructor(
    private readonly remote: KV,
    private readonly replica: Replica,
    private readonly opts: ReplicaKVOptions,
  ) {}

  async range(req: RangeRequest): Promise<RangeResponse> {
    checkRangeRequest(req)
    if (!this.replica.serves(req.key, rangeEndOf(req.rangeEnd))) return this.remote.range(req)
    if (!req.serializable && !(await this.replica.caughtUpForRead(this.opts.readWaitMs))) return this.remote.range(req)
    const store = this.replica.store
    const rev = store.committedRev
    // a revision the replica does not hold (older than its load or compaction, or newer): etcd answers
    if (req.revision > 0 && (req.revision < store.readFrom || req.revision > rev)) return this.remote.range(req)
    const view: ReadView = { rev, firstRev: store.readFrom, range: (key, end, opts) => store.rangeKeys(key, end, rev, opts) }
    const resp = applyRange(view, req)
    resp.header = this.replica.header(rev)
    return resp
  }

  async put(req: PutRequest): Promise<PutResponse> {
    return this.applied(await this.remote.put(req))
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.applied(await this.remote.deleteRange(req))
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    return this.applied(await this.remote.txn(req))
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const resp = await this.remote.compact(req)
    if (await this.replica.caughtUpForWrite(req.revision, this.opts.writeWaitMs)) this.replica.followCompaction(req.revision)
    return resp
  }

  /** A write's answer, once the replica has its revision (or the wait ran out: the write is done either way). */
  private async applied<T extends { header: { revision: number } }>(resp: T): Promise<T> {
    await this.replica.caughtUpForWrite(resp.header.revision, this.opts.writeWaitMs)
    return resp
  }
}
