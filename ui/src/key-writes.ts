/**
 * The console's writes, each one txn guarded by a compare, so that nothing written by someone else in the
 * meantime is overwritten or deleted silently: an edit or a delete holds only if the key still has the
 * mod revision it was read at; a new key only if it does not exist yet.
 */
import { api, type Compare, type KeyValue, type RequestOp } from './api.js'
import { displayText, fromWire, toWire } from './bytes.js'

export type WriteResult = { ok: true; revision: number } | { ok: false; message: string; current?: KeyValue }

async function guarded(key: Uint8Array, compare: Compare, op: RequestOp, refusal: (current: KeyValue | undefined) => string): Promise<WriteResult> {
  const res = await api.txn([compare], [op], [{ request_range: { key: toWire(key) } }])
  if (res.succeeded) return { ok: true, revision: Number(res.header.revision) }
  const current = res.responses?.[0]?.response_range?.kvs?.[0]
  return { ok: false, message: refusal(current), ...(current ? { current } : {}) }
}

function changedSince(key: Uint8Array, readAt: number, current: KeyValue | undefined): string {
  const name = displayText(key)
  if (!current) return `Not saved: ${name} was deleted by someone else after you read it at mod revision ${readAt}.`
  return (
    `Not saved: ${name} was changed by someone else after you read it at mod revision ${readAt} ` +
    `(it is now at mod revision ${current.mod_revision}, version ${current.version}). Reload it to see the new value, then edit again.`
  )
}

export function saveEdit(kv: KeyValue, value: Uint8Array): Promise<WriteResult> {
  const key = fromWire(kv.key)
  const readAt = Number(kv.mod_revision)
  const put = { request_put: { key: kv.key, value: toWire(value), ...(kv.lease ? { lease: kv.lease } : {}) } }
  return guarded(key, { key: kv.key, target: 'MOD', result: 'EQUAL', mod_revision: String(readAt) }, put, (current) => changedSince(key, readAt, current))
}

export function deleteKey(kv: KeyValue): Promise<WriteResult> {
  const key = fromWire(kv.key)
  const readAt = Number(kv.mod_revision)
  const del = { request_delete_range: { key: kv.key } }
  return guarded(key, { key: kv.key, target: 'MOD', result: 'EQUAL', mod_revision: String(readAt) }, del, (current) =>
    changedSince(key, readAt, current).replace('Not saved', 'Not deleted'),
  )
}

export function createKey(key: Uint8Array, value: Uint8Array): Promise<WriteResult> {
  const k = toWire(key)
  return guarded(key, { key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' }, { request_put: { key: k, value: toWire(value) } }, (current) =>
    `Not created: ${displayText(key)} already exists (mod revision ${current?.mod_revision}); open it to edit it.`,
  )
}
