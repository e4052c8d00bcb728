import { readU64, writeU64 } from './u64.js'

/** A revision as etcd's mvcc has it: `main` is the store revision, `sub` orders the changes inside it. */
export interface Revision {
  readonly main: number
  readonly sub: number
}

const REV_KEY_BYTES = 16

/** Big-endian (main, sub) so that lmdb's byte order is revision order. */
export function encodeRevKey(main: number, sub: number): Buffer {
  const b = Buffer.allocUnsafe(REV_KEY_BYTES)
  writeU64(b, 0, main)
  writeU64(b, 8, sub)
  return b
}

export function decodeRevKey(b: Buffer): Revision {
  return { main: readU64(b, 0), sub: readU64(b, 8) }
}
