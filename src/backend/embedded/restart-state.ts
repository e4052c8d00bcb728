/**
 * The key index saved beside the store file, so that a restart reads one file instead of every row of
 * the revisions table. The file is one buffer: a header (what it is, a checksum of the rest, the id of
 * this save, the revision and compaction it was taken at, the number of keys), the keys attached to
 * leases, the row counts of the latest revisions, the snapshot's `key` bucket as laid out (when it was)
 * and then, in key order, every key with its revisions.
 * Anything that does not check out (a torn or truncated write, a flipped bit, another
 * format) makes the reader return undefined: the store then rebuilds its index from the rows.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { BucketLayout } from '../../snapshot/bolt-writer.js'
import { PRIVATE_FILE_MODE } from './data-dir.js'
import type { AddSavedKey, SavedHistory } from './key-index.js'
import { ROW_COUNTS_WINDOW, type SavedRowCounts } from './row-counts.js'

export const RESTART_STATE_FILE = 'index.state'
const PARTIAL_FILE = `${RESTART_STATE_FILE}.part`
const MAGIC = 'etcdgwix'
const FORMAT = 2
/** magic, format, checksum, body length, id, revision, compaction, keys */
const HEADER_BYTES = 8 + 4 + 4 + 8 + 16 + 8 + 8 + 8
const ID_BYTES = 16

export interface RestartState {
  /** This save's random id: the store file records the id of the last save that completed. */
  id: string
  /** Every row up to this revision is in it, none after. */
  rev: number
  /** The compaction the index had had (-1: none). */
  compactRev: number
  keyCount: number
  /** Keys attached to a lease, and the lease. */
  leases: Array<{ key: string; lease: bigint }>
  rowCounts: SavedRowCounts
  /** A snapshot's `key` bucket laid out through the rows up to `rev`, when it was saved. */
  keyBucketLayout: BucketLayout | undefined
  /** Adds every key with its revisions, in byte order; throws when the keys are malformed. */
  addKeys(add: AddSavedKey): void
}

/** What a save is made of; the index is visited in key order. */
export interface RestartStateSource {
  rev: number
  compactRev: number
  /** Keys the index holds (a size hint). */
  keysHeld: number
  /**
   * Visits every key with revisions at or before `rev` in byte order, with how many of its revisions are;
   * it may yield to the event loop between keys, and rejects when the index changed below `rev` meanwhile.
   */
  forEachHistory(visit: (key: string, history: SavedHistory, revisions: number) => void): Promise<void>
  /** Read before the first key is visited. */
  leases(): Iterable<[string, bigint]>
  rowCounts: SavedRowCounts
  /** The snapshot's `key` bucket laid out through the rows up to `rev` (BucketLayout.save), if known. */
  keyBucketLayout: number[] | undefined
}

/** A buffer that grows as it is written, with etcd-sized numbers as LEB128 varints. */
class Writer {
  at = 0
  constructor(public buf: Buffer) {}

  room(n: number): void {
    if (this.at + n <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n))
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }

  varint(n: number): void {
    this.room(8)
    while (n >= 0x80) {
      this.buf[this.at++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.at++] = n
  }

  latin1(s: string): void {
    this.varint(s.length)
    this.room(s.length)
    this.at += this.buf.write(s, this.at, 'latin1')
  }
}

class Reader {
  at: number
  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.at = start
  }

  varint(): number {
    const buf = this.buf
    let b = buf[this.at++]!
    let n = b & 0x7f
    let scale = 0x80
    while (b & 0x80) {
      b = buf[this.at++]!
      n += (b & 0x7f) * scale
      scale *= 0x80
    }
    if (this.at > buf.length || scale > 2 ** 56) throw new Error('a number past the end')
    return n
  }

  latin1(): string {
    const length = this.varint()
    const end = this.at + length
    if (end > this.buf.length) throw new Error('a key past the end')
    const s = this.buf.toString('latin1', this.at, end)
    this.at = end
    return s
  }
}

/** The file's bytes for `source`, under a new id. */
export async function encodeRestartState(source: RestartStateSource): Promise<{ id: string; bytes: Buffer }> {
  // about what a key written once takes, so that the buffer rarely grows
  const w = new Writer(Buffer.allocUnsafe(HEADER_BYTES + (1 << 20) + source.keysHeld * 24))
  w.room(HEADER_BYTES)
  w.at = HEADER_BYTES
  const leases = [...source.leases()]
  w.varint(leases.length)
  for (const [key, lease] of leases) {
    w.latin1(key)
    w.room(8)
    w.at = w.buf.writeBigInt64BE(lease, w.at)
  }
  const counts = source.rowCounts
  w.room(16 + counts.upTo.byteLength)
  w.at = w.buf.writeDoubleBE(counts.latest, w.at)
  w.at = w.buf.writeDoubleBE(counts.total, w.at)
  w.at += Buffer.from(counts.upTo.buffer, counts.upTo.byteOffset, counts.upTo.byteLength).copy(w.buf, w.at)
  const layout = source.keyBucketLayout ?? []
  w.varint(layout.length)
  for (const n of layout) w.varint(n)
  let keyCount = 0
  await source.forEachHistory((key, h, revisions) => {
    keyCount++
    w.latin1(key)
    w.varint(revisions)
    for (let i = 0; i < revisions; i++) {
      w.varint(h.mainAt(i))
      w.varint(h.taggedSubAt(i))
    }
  })
  const bytes = w.buf.subarray(0, w.at)
  const id = randomBytes(ID_BYTES)
  let h = bytes.write(MAGIC, 0, 'latin1')
  h = bytes.writeUInt32BE(FORMAT, h)
  h = bytes.writeUInt32BE(crc32(bytes.subarray(HEADER_BYTES)), h)
  h = bytes.writeDoubleBE(bytes.length - HEADER_BYTES, h)
  h += id.copy(bytes, h)
  h = bytes.writeDoubleBE(source.rev, h)
  h = bytes.writeDoubleBE(source.compactRev, h)
  bytes.writeDoubleBE(keyCount, h)
  return { id: id.toString('hex'), bytes }
}

/** The state in `bytes`, or undefined when they are not a whole, unaltered file of this format. */
export function decodeRestartState(bytes: Buffer): RestartState | undefined {
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC || bytes.readUInt32BE(8) !== FORMAT) return undefined
  if (bytes.readDoubleBE(16) !== bytes.length - HEADER_BYTES || bytes.readUInt32BE(12) !== crc32(bytes.subarray(HEADER_BYTES))) return undefined
  try {
    return decodeBody(bytes)
  } catch {
    // a checksum match over a malformed body: written by something else; not trusted either
    return undefined
  }
}

function decodeBody(bytes: Buffer): RestartState {
  const id = bytes.toString('hex', 24, 24 + ID_BYTES)
  const rev = bytes.readDoubleBE(40)
  const compactRev = bytes.readDoubleBE(48)
  const keyCount = bytes.readDoubleBE(56)
  const r = new Reader(bytes, HEADER_BYTES)
  const leases = new Array<{ key: string; lease: bigint }>(r.varint())
  for (let i = 0; i < leases.length; i++) {
    const key = r.latin1()
    leases[i] = { key, lease: bytes.readBigInt64BE(r.at) }
    r.at += 8
  }
  const latest = bytes.readDoubleBE(r.at)
  const total = bytes.readDoubleBE(r.at + 8)
  r.at += 16
  const upTo = new Float64Array(ROW_COUNTS_WINDOW)
  Buffer.from(upTo.buffer).set(bytes.subarray(r.at, r.at + upTo.byteLength))
  r.at += upTo.byteLength
  const layoutNumbers = r.varint()
  // a few per level of a tree
  if (layoutNumbers > 1024) throw new Error('not a bucket layout')
  const layout = new Array<number>(layoutNumbers)
  for (let i = 0; i < layout.length; i++) layout[i] = r.varint()
  const keyBucketLayout = layout.length > 0 ? BucketLayout.restore(layout) : undefined
  const keysAt = r.at
  const addKeys = (add: AddSavedKey) => {
    const k = new Reader(bytes, keysAt)
    let previous = ''
    for (let i = 0; i < keyCount; i++) {
      const key = k.latin1()
      if (i > 0 && key <= previous) throw new Error('keys out of order')
      const n = k.varint()
      if (n === 0) throw new Error('a key without revisions')
      const firstMain = k.varint()
      const firstTaggedSub = k.varint()
      let more: number[] | undefined
      if (n > 1) {
        more = new Array<number>(2 * (n - 1))
        for (let j = 0; j < more.length; j++) more[j] = k.varint()
      }
      add(key, firstMain, firstTaggedSub, more)
      previous = key
    }
    if (k.at !== bytes.length) throw new Error('bytes after the last key')
  }
  if (r.at > bytes.length) throw new Error('the row counts are cut short')
  return { id, rev, compactRev, keyCount, leases, rowCounts: { latest, total, upTo }, keyBucketLayout, addKeys }
}

/** The state saved in the member folder `dir`, or undefined when there is none that checks out. */
export function readRestartState(dir: string): RestartState | undefined {
  // a save a crash cut short
  rmSync(join(dir, PARTIAL_FILE), { force: true })
  let bytes: Buffer
  try {
    bytes = readFileSync(join(dir, RESTART_STATE_FILE))
  } catch {
    return undefined
  }
  return decodeRestartState(bytes)
}

/** Writes `bytes` as the member folder's restart state: whole and durable, or not at all. */
export async function writeRestartState(dir: string, bytes: Buffer): Promise<void> {
  const partial = join(dir, PARTIAL_FILE)
  const file = await open(partial, 'w', PRIVATE_FILE_MODE)
  try {
    await file.writeFile(bytes)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(partial, join(dir, RESTART_STATE_FILE))
  const folder = await open(dir, 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}
