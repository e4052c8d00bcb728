import type { KeyValue } from '../backend.js'
import type { KeyValueShape } from '../../proto-size.js'
import { readU64, writeU64 } from './u64.js'

/**
 * The row format of the revisions table: one change (a put's KeyValue or a delete's tombstone).
 * Layout: flags u8 | create_revision u64 | mod_revision u64 | version u64 | lease i64 | key length u32 | key | value
 */
export interface StoredChange {
  kv: KeyValue
  tombstone: boolean
}

const TOMBSTONE = 1
const HEADER_BYTES = 1 + 8 + 8 + 8 + 8 + 4

/** A row's lease: most rows have none, which is read without making a bigint. */
const readLease = (b: Buffer): bigint => (readU64(b, 25) === 0 ? 0n : b.readBigInt64BE(25))

/** The bytes of a row holding `kv`. */
export const encodedLength = (kv: Pick<KeyValue, 'key' | 'value'>): number => HEADER_BYTES + kv.key.length + kv.value.length

export function encodeChange(c: StoredChange): Buffer {
  return writeChange(c, Buffer.allocUnsafe(encodedLength(c.kv)))
}

/** Writes the row holding `c` at `b[at]` (encodedLength bytes); returns `b`. */
export function writeChange(c: StoredChange, b: Buffer, at = 0): Buffer {
  const { kv } = c
  b[at] = c.tombstone ? TOMBSTONE : 0
  writeU64(b, at + 1, kv.createRevision)
  writeU64(b, at + 9, kv.modRevision)
  writeU64(b, at + 17, kv.version)
  // most rows have no lease, written without a bigint
  if (kv.lease === 0n) writeU64(b, at + 25, 0)
  else b.writeBigInt64BE(kv.lease, at + 25)
  b.writeUInt32BE(kv.key.length, at + 33)
  kv.key.copy(b, at + HEADER_BYTES)
  kv.value.copy(b, at + HEADER_BYTES + kv.key.length)
  return b
}

/** Decodes a row; key and value are views of `b`, which must be the caller's own copy. */
export function decodeChange(b: Buffer): StoredChange {
  const keyLen = b.readUInt32BE(33)
  const keyEnd = HEADER_BYTES + keyLen
  return {
    tombstone: (b[0]! & TOMBSTONE) !== 0,
    kv: {
      key: b.subarray(HEADER_BYTES, keyEnd),
      createRevision: readU64(b, 1),
      modRevision: readU64(b, 9),
      version: readU64(b, 17),
      lease: readLease(b),
      value: b.subarray(keyEnd, b.length),
    },
  }
}

/** Only what a put needs of the key's previous row, without copying key or value. */
export function decodeChangeVersion(b: Buffer): { createRevision: number; version: number } {
  return { createRevision: readU64(b, 1), version: readU64(b, 17) }
}

/** Only the key of a row, as the index holds it (latin1 string = raw bytes). */
export function decodeChangeKey(b: Buffer): { key: string; tombstone: boolean } {
  const keyLen = b.readUInt32BE(33)
  return { key: b.toString('latin1', HEADER_BYTES, HEADER_BYTES + keyLen), tombstone: (b[0]! & TOMBSTONE) !== 0 }
}

/** What the key index and the lease attachments are rebuilt from. */
export interface IndexedChange {
  key: string
  tombstone: boolean
  lease: bigint
}

/**
 * The key, kind and lease of a row, read in place: `b` may be a view of memory its reader reuses (only
 * offsets within the row are read; most rows have no lease, which allocates nothing).
 */
export function decodeIndexedChange(b: Buffer): IndexedChange {
  const keyLen = b.readUInt32BE(33)
  return {
    key: b.toString('latin1', HEADER_BYTES, HEADER_BYTES + keyLen),
    tombstone: (b[0]! & TOMBSTONE) !== 0,
    lease: readLease(b),
  }
}

/**
 * A row's numbers, and its key and value as ranges of the row, read into one object reused for every
 * row: a snapshot reads every row of the store twice, where an object and two views per row were a
 * sixth of its time. The row must not change until the next read.
 */
export class ChangeInPlace implements KeyValueShape {
  tombstone = false
  createRevision = 0
  modRevision = 0
  version = 0
  lease = 0n
  keySource: Buffer = Buffer.alloc(0)
  readonly keyStart = HEADER_BYTES
  readonly key = { length: 0 }
  valueSource: Buffer = this.keySource
  valueStart = HEADER_BYTES
  readonly value = { length: 0 }

  read(row: Buffer): this {
    const keyLength = row.readUInt32BE(33)
    this.tombstone = (row[0]! & TOMBSTONE) !== 0
    this.createRevision = readU64(row, 1)
    this.modRevision = readU64(row, 9)
    this.version = readU64(row, 17)
    this.lease = readLease(row)
    this.keySource = this.valueSource = row
    this.key.length = keyLength
    this.valueStart = HEADER_BYTES + keyLength
    this.value.length = row.length - this.valueStart
    return this
  }
}
