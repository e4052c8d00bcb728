/**
 * The facts of bbolt's file format (the db file etcd keeps its backend in), as its readers and
 * writers here both use them. Integers are little-endian (bbolt writes its structs in the machine's
 * order, and etcd runs on little-endian machines).
 *
 *   page header (16 B): id u64 | flags u16 | count u16 | overflow u32
 *   meta (after the header): magic u32 | version u32 | pageSize u32 | flags u32 | root bucket {root u64,
 *     sequence u64} | freelist u64 | pgid u64 (high-water mark) | txid u64 | checksum u64 (FNV-64a of
 *     the 56 bytes before it)
 *   branch element (16 B): pos u32 | ksize u32 | pgid u64
 *   leaf element (16 B): flags u32 | pos u32 | ksize u32 | vsize u32; pos counts from the element itself
 *   bucket value: root u64 | sequence u64, then, when root is 0, the bucket's one leaf page inline
 *   freelist: count page ids (u64); a count of 0xffff means the first u64 holds the real count
 */
export const PAGE_HEADER_BYTES = 16
export const ELEMENT_BYTES = 16
export const BUCKET_HEADER_BYTES = 16

export const BRANCH_PAGE = 0x01
export const LEAF_PAGE = 0x02
export const META_PAGE = 0x04
export const FREELIST_PAGE = 0x10
/** A leaf element whose value is a bucket. */
export const BUCKET_LEAF = 0x01

export const MAGIC = 0xed0cdaed
export const VERSION = 2
export const META_BYTES = 64
export const META_CHECKSUMMED_BYTES = 56
/** A freelist that was not written (bbolt's NoFreelistSync): the free pages are found by a scan. */
export const NO_FREELIST = 0xffff_ffff_ffff_ffffn
export const FREELIST_COUNT_OVERFLOW = 0xffff

/** etcd's snapshot trailer, after the db's bytes: their sha256. */
export const SHA256_TRAILER_BYTES = 32

/** The page size bbolt takes on Linux amd64 (the OS page size), and the one written here. */
export const DEFAULT_PAGE_SIZE = 4096

export interface Meta {
  pageSize: number
  flags: number
  root: number
  sequence: bigint
  freelist: bigint
  /** Pages in the file's data: the high-water mark. */
  pgid: number
  txid: bigint
}

const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const U64 = 0xffff_ffff_ffff_ffffn

/** FNV-64a, the checksum of a meta page. */
export function fnv64a(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64
  return h
}

/** A meta page's bytes (header included) for `meta`, as page `id`. */
export function encodeMetaPage(meta: Meta, id: number): Buffer {
  const page = Buffer.alloc(meta.pageSize)
  page.writeBigUInt64LE(BigInt(id), 0)
  page.writeUInt16LE(META_PAGE, 8)
  const m = page.subarray(PAGE_HEADER_BYTES, PAGE_HEADER_BYTES + META_BYTES)
  m.writeUInt32LE(MAGIC, 0)
  m.writeUInt32LE(VERSION, 4)
  m.writeUInt32LE(meta.pageSize, 8)
  m.writeUInt32LE(meta.flags, 12)
  m.writeBigUInt64LE(BigInt(meta.root), 16)
  m.writeBigUInt64LE(meta.sequence, 24)
  m.writeBigUInt64LE(meta.freelist, 32)
  m.writeBigUInt64LE(BigInt(meta.pgid), 40)
  m.writeBigUInt64LE(meta.txid, 48)
  m.writeBigUInt64LE(fnv64a(m.subarray(0, META_CHECKSUMMED_BYTES)), META_CHECKSUMMED_BYTES)
  return page
}
