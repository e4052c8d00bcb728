import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../backend.js'
import { Errors } from '../../errors.js'

/*
 * The checks etcd's gRPC layer (v3rpc/key.go) makes before a request reaches the store, in etcd's order.
 */

export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
}

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
  if (r.ignoreValue && r.value.length !== 0) throw Errors.valueProvided()
  if (r.ignoreLease && r.lease !== 0n) throw Errors.leaseProvided()
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw Errors.emptyKey()
}

export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  checkTxnOps(r, maxTxnOps)
  checkIntervals(r.success)
  checkIntervals(r.failure)
}

function checkTxnOps(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length)
  if (opc > maxTxnOps) throw Errors.tooManyOps()
  for (const c of r.compare) if (c.key.length === 0) throw Errors.emptyKey()
  // a nested txn gets the budget its parent leaves (etcd passes maxTxnOps - opc down)
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc)
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc)
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  switch (op.kind) {
    case 'range':
      return checkRangeRequest(op.request)
    case 'put':
      return checkPutRequest(op.request)
    case 'deleteRange':
      return checkDeleteRequest(op.request)
    case 'txn':
      return checkTxnOps(op.request, maxTxnOps)
    case 'none':
      throw Errors.keyNotFound()
  }
}

/** Half-open byte ranges as latin1 strings; a point is [k, k + "\0"). */
interface Interval {
  begin: string
  end: string
}

function containsPoint(dels: readonly Interval[], k: string): boolean {
  // etcd's interval tree: [b, e) meets the point [k, k\0) when b <= k < e (an end <= begin meets nothing)
  for (const d of dels) if (d.begin <= k && k < d.end) return true
  return false
}

/**
 * etcd's checkIntervals: within one branch (and through the branches of nested txns) a key may be put
 * once and may not be both put and deleted. Returns the branch's puts and deletes for the parent level.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = []
  for (const op of ops) {
    if (op.kind !== 'deleteRange') continue
    const begin = op.request.key.toString('latin1')
    const end = op.request.rangeEnd.length !== 0 ? op.request.rangeEnd.toString('latin1') : begin + '\0'
    dels.push({ begin, end })
  }
  const puts = new Set<string>()
  for (const op of ops) {
    if (op.kind !== 'txn') continue
    const then = checkIntervals(op.request.success)
    const otherwise = checkIntervals(op.request.failure)
    for (const k of then.puts) {
      if (puts.has(k) || containsPoint(dels, k)) throw Errors.duplicateKey()
      puts.add(k)
    }
    for (const k of otherwise.puts) {
      // the same key in then and else is fine: only one of them runs
      if ((puts.has(k) && !then.puts.has(k)) || containsPoint(dels, k)) throw Errors.duplicateKey()
      puts.add(k)
    }
    dels.push(...then.dels, ...otherwise.dels)
  }
  for (const op of ops) {
    if (op.kind !== 'put') continue
    const k = op.request.key.toString('latin1')
    if (puts.has(k) || containsPoint(dels, k)) throw Errors.duplicateKey()
    puts.add(k)
  }
  return { puts, dels }
}
