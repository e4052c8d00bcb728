import { randomBytes } from 'node:crypto'

/** One kind of request the load generator sends: a POST with a JSON body. */
export interface Op {
  path: string
  /** A body per request when it must vary (fresh keys), else one fixed body. */
  body: string | (() => string)
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** The key every target holds before a range cell starts, and its 3-byte value. */
export const RANGE_KEY = 'foo'
export const RANGE_VALUE = 'bar'

export const OPS = {
  /** Range of one existing key (spec §7.1). */
  range: { path: '/v3/kv/range', body: JSON.stringify({ key: b64(RANGE_KEY) }) },
  /** The same range served from the member's local store, without a linearizability round (remote section). */
  'range-serializable': { path: '/v3/kv/range', body: JSON.stringify({ key: b64(RANGE_KEY), serializable: true }) },
  /** Put of a fresh random key `bench/<12 hex>` with a 16-byte value (spec §7.1). */
  put: {
    path: '/v3/kv/put',
    body: () =>
      JSON.stringify({ key: b64(`bench/${randomBytes(6).toString('hex')}`), value: b64(randomBytes(8).toString('hex')) }),
  },
} satisfies Record<string, Op>

export type OpName = keyof typeof OPS

export function isOpName(name: string): name is OpName {
  return Object.hasOwn(OPS, name)
}

/** The ops of the KV matrix (spec §7.1); range-serializable is only in the remote section. */
export const KV_OPS: OpName[] = ['range', 'put']
