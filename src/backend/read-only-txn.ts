/** Which txns only read: two questions etcd answers differently, each decided here once. */
import type { RequestOp, TxnRequest } from './backend.js'

const isRange = (op: RequestOp) => op.kind === 'range'

/**
 * etcd's isTxnReadonly: a txn whose branches hold ranges only (a nested txn counts as a write) is served
 * without raft, so it is not checked against --max-request-bytes, nor refused by a NOSPACE alarm.
 */
export function isReadOnlyTxn(txn: TxnRequest): boolean {
  return txn.success.every(isRange) && txn.failure.every(isRange)
}

/** A txn that writes nothing on any branch, nested txns included: safe to send again, like a range. */
export function txnWritesNothing(txn: TxnRequest): boolean {
  const readOnly = (op: RequestOp): boolean =>
    op.kind === 'range' || op.kind === 'none' || (op.kind === 'txn' && txnWritesNothing(op.request))
  return txn.success.every(readOnly) && txn.failure.every(readOnly)
}
