import {
  CompareResult,
  CompareTarget,
  SortOrder,
  SortTarget,
  type CompactionRequest,
  type CompactionResponse,
  type Compare,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type KV,
  type KeyValue,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseHeader,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from '../backend.js'
import { Errors } from '../../errors.js'
import { rangeEndOf } from '../key-range.js'
import { isReadOnlyTxn } from '../read-only-txn.js'
import type { MvccStore } from './mvcc-store.js'
import type { ReadView } from './views.js'
import type { WriteTxn } from './write-txn.js'
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from './request-checks.js'

export interface EmbeddedKVOptions {
  maxTxnOps: number
  /** Whether a lease exists (etcd refuses puts that name an unknown lease). */
  leaseExists: (id: bigint) => boolean
  header: (revision: number) => ResponseHeader
}

/**
 * etcd's KV service on the embedded store: the gRPC-layer checks, then etcd's apply logic
 * (etcdserver/apply.go) over MvccStore views and write transactions.
 */
export class EmbeddedKV implements KV {
  constructor(
    private readonly store: MvccStore,
    private readonly opts: EmbeddedKVOptions,
  ) {}

  async range(req: RangeRequest): Promise<RangeResponse> {
    checkRangeRequest(req)
    const resp = applyRange(this.store.read(), req)
    resp.header = this.header(resp.header.revision)
    return resp
  }

  async put(req: PutRequest): Promise<PutResponse> {
    checkPutRequest(req)
    if (req.lease !== 0n && !this.opts.leaseExists(req.lease)) throw Errors.leaseNotFound()
    const txn = this.store.write()
    const resp = applyOrAbort(txn, () => this.applyPut(txn, req))
    await txn.end()
    resp.header = this.header(resp.header.revision)
    return resp
  }

  async deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    checkDeleteRequest(req)
    const txn = this.store.write()
    const resp = applyOrAbort(txn, () => applyDeleteRange(txn, req))
    await txn.end()
    resp.header = this.header(resp.header.revision)
    return resp
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    checkTxnRequest(req, this.opts.maxTxnOps)
    const isWrite = !isReadOnlyTxn(req)
    // a write txn reads what has been applied (it is ordered after it); a read-only one what is durable
    const view: ReadView = isWrite ? this.store.write() : this.store.read()
    const path = compareToPath(view, req)
    if (isWrite) checkRequests(req, new TxnPath(path), (op) => this.checkPut(view, op))
    checkRequests(req, new TxnPath(path), (op) => checkRange(view, op))
    const resp = isWrite
      ? applyOrAbort(view as WriteTxn, () => this.applyTxn(view, req, new TxnPath(path)))
      : this.applyTxn(view, req, new TxnPath(path))
    const rev = view.rev
    if (isWrite) await (view as WriteTxn).end()
    resp.header = this.header(rev)
    return resp
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const { physical } = await this.store.compact(req.revision)
    if (req.physical) await physical
    return { header: this.header(this.store.currentRev) }
  }

  private header(revision: number): ResponseHeader {
    return this.opts.header(revision)
  }

  private applyPut(txn: WriteTxn, req: PutRequest): PutResponse {
    let value = req.value
    let lease = req.lease
    let prev: KeyValue | undefined
    if (req.ignoreValue || req.ignoreLease || req.prevKv) {
      prev = txn.range(req.key, undefined, { limit: 0, rev: 0, count: false }).kvs[0]
    }
    if ((req.ignoreValue || req.ignoreLease) && !prev) throw Errors.keyNotFound()
    if (req.ignoreValue) value = prev!.value
    // as etcd: ignore_value without ignore_lease takes the request's lease (0 drops the old one)
    if (req.ignoreLease) lease = prev!.lease
    const revision = txn.put(req.key, value, lease)
    return { header: subHeader(revision), prevKv: req.prevKv ? prev : undefined }
  }

  private checkPut(view: ReadView, op: RequestOp): void {
    if (op.kind !== 'put') return
    const req = op.request
    if (req.ignoreValue || req.ignoreLease) {
      if (view.range(req.key, undefined, { limit: 0, rev: 0, count: false }).kvs.length === 0) throw Errors.keyNotFound()
    }
    if (req.lease !== 0n && !this.opts.leaseExists(req.lease)) throw Errors.leaseNotFound()
  }

  /** Runs the branches the path chose; nested txn responses keep an empty header, as etcd's do. */
  private applyTxn(view: ReadView, req: TxnRequest, path: TxnPath): TxnResponse {
    const succeeded = path.next()
    const responses: ResponseOp[] = []
    for (const op of succeeded ? req.success : req.failure) {
      switch (op.kind) {
        case 'range':
          responses.push({ kind: 'range', response: applyRange(view, op.request) })
          break
        case 'put':
          responses.push({ kind: 'put', response: this.applyPut(view as WriteTxn, op.request) })
          break
        case 'deleteRange':
          responses.push({ kind: 'deleteRange', response: applyDeleteRange(view as WriteTxn, op.request) })
          break
        case 'txn':
          responses.push({ kind: 'txn', response: this.applyTxn(view, op.request, path) })
          break
        case 'none':
          break
      }
    }
    return { header: subHeader(0), succeeded, responses }
  }
}

/**
 * The outcome of every txn's compares in depth-first order (etcd's txnPath), consumed in the same order
 * by the checks and by the apply.
 */
class TxnPath {
  private at = 0

  constructor(private readonly outcomes: readonly boolean[]) {}

  next(): boolean {
    return this.outcomes[this.at++]!
  }
}

/** Runs a write's apply step; if it throws, the write's changes are taken back before the error goes on. */
function applyOrAbort<T>(txn: WriteTxn, apply: () => T): T {
  try {
    return apply()
  } catch (err) {
    txn.abort()
    throw err
  }
}

const subHeader = (revision: number): ResponseHeader => ({ clusterId: 0n, memberId: 0n, revision, raftTerm: 0 })

/** etcd's Range over a read view: filters, sort, limit and keys_only; the header carries only the view's revision. */
export function applyRange(view: ReadView, req: RangeRequest): RangeResponse {
  const filtered =
    req.minModRevision !== 0 || req.maxModRevision !== 0 || req.minCreateRevision !== 0 || req.maxCreateRevision !== 0
  // sorted or filtered results are fetched whole and cut afterwards; otherwise fetch one extra for `more`
  let limit = req.sortOrder !== SortOrder.NONE || filtered ? 0 : req.limit
  if (limit > 0) limit++
  const rr = view.range(req.key, rangeEndOf(req.rangeEnd), { limit, rev: req.revision, count: req.countOnly })
  let kvs = rr.kvs
  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        !(req.maxModRevision !== 0 && kv.modRevision > req.maxModRevision) &&
        !(req.minModRevision !== 0 && kv.modRevision < req.minModRevision) &&
        !(req.maxCreateRevision !== 0 && kv.createRevision > req.maxCreateRevision) &&
        !(req.minCreateRevision !== 0 && kv.createRevision < req.minCreateRevision),
    )
  }
  let order = req.sortOrder
  // the index yields keys ascending, so only a non-key target needs NONE turned into ASCEND
  if (req.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND
  if (order === SortOrder.ASCEND || order === SortOrder.DESCEND) {
    const cmp = comparatorFor(req.sortTarget)
    // Go's sort.Sort is only stable up to 12 elements (insertion sort); Array#sort always is
    kvs.sort(order === SortOrder.ASCEND ? cmp : (a, b) => cmp(b, a))
  }
  let more = false
  if (req.limit > 0 && kvs.length > req.limit) {
    kvs = kvs.slice(0, req.limit)
    more = true
  }
  if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY_VALUE }))
  return { header: subHeader(rr.rev), kvs, more, count: rr.count }
}

const EMPTY_VALUE = Buffer.alloc(0)

function comparatorFor(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision
    case SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision
    case SortTarget.VALUE:
      return (a, b) => Buffer.compare(a.value, b.value)
    default:
      return (a, b) => Buffer.compare(a.key, b.key)
  }
}

function applyDeleteRange(txn: WriteTxn, req: DeleteRangeRequest): DeleteRangeResponse {
  const end = rangeEndOf(req.rangeEnd)
  const prevKvs = req.prevKv ? txn.range(req.key, end, { limit: 0, rev: 0, count: false }).kvs : []
  const [deleted, revision] = txn.deleteRange(req.key, end)
  return { header: subHeader(revision), deleted, prevKvs }
}

/** Evaluates the compares of the txn and of every nested txn on the chosen branches, before any write. */
function compareToPath(view: ReadView, req: TxnRequest): boolean[] {
  const ok = req.compare.every((c) => applyCompare(view, c))
  const path = [ok]
  for (const op of ok ? req.success : req.failure) {
    if (op.kind === 'txn') path.push(...compareToPath(view, op.request))
  }
  return path
}

function applyCompare(view: ReadView, c: Compare): boolean {
  let kvs: KeyValue[]
  try {
    kvs = view.range(c.key, rangeEndOf(c.rangeEnd), { limit: 0, rev: 0, count: false }).kvs
  } catch {
    return false
  }
  if (kvs.length === 0) {
    // a value compare on a missing key always fails; other targets compare against zero values
    if (c.target === CompareTarget.VALUE) return false
    return compareKV(c, ZERO_KV)
  }
  return kvs.every((kv) => compareKV(c, kv))
}

const ZERO_KV: KeyValue = {
  key: EMPTY_VALUE,
  value: EMPTY_VALUE,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  lease: 0n,
}

function compareKV(c: Compare, kv: KeyValue): boolean {
  let result: number
  switch (c.target) {
    case CompareTarget.VALUE:
      result = Buffer.compare(kv.value, c.value)
      break
    case CompareTarget.CREATE:
      result = Math.sign(kv.createRevision - c.createRevision)
      break
    case CompareTarget.MOD:
      result = Math.sign(kv.modRevision - c.modRevision)
      break
    case CompareTarget.VERSION:
      result = Math.sign(kv.version - c.version)
      break
    case CompareTarget.LEASE:
      result = kv.lease === c.lease ? 0 : kv.lease < c.lease ? -1 : 1
      break
    default:
      result = 0
  }
  switch (c.result) {
    case CompareResult.EQUAL:
      return result === 0
    case CompareResult.NOT_EQUAL:
      return result !== 0
    case CompareResult.GREATER:
      return result > 0
    case CompareResult.LESS:
      return result < 0
    default:
      return true
  }
}

/** etcd's checkRequests: runs `check` on every op of the branches the path chooses. */
function checkRequests(req: TxnRequest, path: TxnPath, check: (op: RequestOp) => void): void {
  for (const op of path.next() ? req.success : req.failure) {
    if (op.kind === 'txn') checkRequests(op.request, path, check)
    else check(op)
  }
}

function checkRange(view: ReadView, op: RequestOp): void {
  if (op.kind !== 'range' || op.request.revision === 0) return
  if (op.request.revision > view.rev) throw Errors.futureRev()
  if (op.request.revision < view.firstRev) throw Errors.compacted()
}
