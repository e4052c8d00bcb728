import { readU64, writeU64 } from './u64.js'

/** A revision as etcd's mvcc has it: `main` is the store revision, `sub` orders the changes inside it. */
export interface Revision {
  readonly main: number
  readonly sub: number
}

/** Bytes of a revision's key in the revisions table. */
export const ROW_KEY_BYTES = 16

/** Big-endian (main, sub) so that lmdb's byte order is revision order. */
export function encodeRevKey(main: number, sub: number): Buffer {
  return writeRevKey(Buffer.allocUnsafe(ROW_KEY_BYTES), main, sub)
}

/** Writes the key of revision (main, sub) at `b[at]` (ROW_KEY_BYTES); returns `b`. */
export function writeRevKey(b: Buffer, main: number, sub: number, at = 0): Buffer {
  writeU64(b, at, main)
  writeU64(b, at + 8, sub)
  return b
}

export function decodeRevKey(b: Buffer): Revision {
  return { main: readU64(b, 0), sub: readU64(b, 8) }
}
