import type { ConformanceCase, Step } from '../case.js'

/** Builders that spell request bodies for the case tables (keys and values given as text or bytes). */

export type Bytes = string | Buffer

export const b64 = (bytes: Bytes): string =>
  (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64')

type Fields = Record<string, unknown>

export const step = (path: string, body: string, extra: Omit<Step, 'path' | 'body'> = {}): Step => ({
  path,
  body,
  ...extra,
})

const json = (path: string, fields: Fields): Step => step(path, JSON.stringify(fields))

export const range = (key: Bytes, fields: Fields = {}) => json('/v3/kv/range', { key: b64(key), ...fields })
export const put = (key: Bytes, value: Bytes, fields: Fields = {}) =>
  json('/v3/kv/put', { key: b64(key), value: b64(value), ...fields })
export const del = (key: Bytes, fields: Fields = {}) => json('/v3/kv/deleterange', { key: b64(key), ...fields })
export const compact = (revision: number | string, fields: Fields = {}) =>
  json('/v3/kv/compaction', { revision, ...fields })
export const txn = (fields: Fields) => json('/v3/kv/txn', fields)

/** Range over every key, the simplest way to see the whole store. */
export const rangeAll = (fields: Fields = {}) => json('/v3/kv/range', { key: 'AA==', range_end: 'AA==', ...fields })

/** Prefix range end: the prefix with its last byte incremented (prefixes here never end in 0xff). */
export const prefixEnd = (prefix: string): string => {
  const bytes = Buffer.from(prefix, 'utf8')
  bytes[bytes.length - 1]! += 1
  return bytes.toString('base64')
}

// Txn parts.
export const opPut = (key: Bytes, value: Bytes, fields: Fields = {}) => ({
  request_put: { key: b64(key), value: b64(value), ...fields },
})
export const opRange = (key: Bytes, fields: Fields = {}) => ({ request_range: { key: b64(key), ...fields } })
export const opDel = (key: Bytes, fields: Fields = {}) => ({ request_delete_range: { key: b64(key), ...fields } })
export const opTxn = (fields: Fields) => ({ request_txn: fields })
export const cmp = (key: Bytes, target: string, result: string, fields: Fields = {}) => ({
  key: b64(key),
  target,
  result,
  ...fields,
})

/**
 * A store with history, revisions 2..9:
 * 2 a=1, 3 ab=2, 4 abc=3, 5 b=4, 6 c=5, 7 a=11 (version 2), 8 delete c, 9 c=55 (created again).
 */
export const seed: Step[] = [
  put('a', '1'),
  put('ab', '2'),
  put('abc', '3'),
  put('b', '4'),
  put('c', '5'),
  put('a', '11'),
  del('c'),
  put('c', '55'),
]

/**
 * Independent checks chained on one store (each after `prefix`; writes among them do not change what
 * the others test). Each step is still compared on its own, but a case needs one fresh pair of
 * servers instead of one per check: a start of our server costs ~0.3 s of CPU, etcd's ~0.01 s.
 * Split into cases of at most `perCase` checks.
 */
export function chained(name: string, checks: Array<[label: string, step: Step]>, prefix: Step[] = seed, perCase = 6): ConformanceCase[] {
  const cases: ConformanceCase[] = []
  for (let i = 0; i < checks.length; i += perCase) {
    const part = checks.slice(i, i + perCase)
    cases.push({
      name: checks.length > perCase ? `${name} (${i / perCase + 1})` : name,
      steps: [...prefix, ...part.map(([label, s]) => ({ ...s, label }))],
    })
  }
  return cases
}
