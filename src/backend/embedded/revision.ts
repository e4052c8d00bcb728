import { readU64, writeU64 } from './u64.js'

/** A revision as etcd's mvcc has it: `main` is the store revision, `sub` orders the changes inside it. */
export interface Revision {
  readonly main: number
  readonly sub: number
}

const REV_KEY_BYTES = 16

/** Big-endian (main, sub) so that lmdb's byte order is revision order. */
export function encodeRevKey(main: number, sub: number): Buffer {
  return writeRevKey(Buffer.allocUnsafe(REV_KEY_BYTES), main, sub)
}

/** Writes the key of revision (main, sub) into `b`, of REV_KEY_BYTES; returns `b`. */
export function writeRevKey(b: Buffer, main: number, sub: number): Buffer {
  writeU64(b, 0, main)
  writeU64(b, 8, sub)
  return b
}

export function decodeRevKey(b: Buffer): Revision {
  return { main: readU64(b, 0), sub: readU64(b, 8) }
}
