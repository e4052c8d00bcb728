/**
 * A strict reader of bbolt db files (etcd's backend, and its snapshots). Every offset is checked
 * against the page it lies in and every page id against the file before anything is read, each
 * page is reached at most once per walk (no cycles, no hangs), and pages are read from the file one
 * at a time (no memory of the file's size). Whatever is wrong is named in a DataLoss EtcdError.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { Errors } from '../errors.js'
import {
  BRANCH_PAGE,
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF,
  DEFAULT_PAGE_SIZE,
  ELEMENT_BYTES,
  fnv64a,
  FREELIST_COUNT_OVERFLOW,
  FREELIST_PAGE,
  LEAF_PAGE,
  MAGIC,
  type Meta,
  META_BYTES,
  META_CHECKSUMMED_BYTES,
  META_PAGE,
  NO_FREELIST,
  PAGE_HEADER_BYTES,
  SHA256_TRAILER_BYTES,
  VERSION,
} from './bolt-format.js'
import { fileSha256 } from './file-sha256.js'

const MIN_PAGE_SIZE = 512
const MAX_PAGE_SIZE = 64 * 1024
/** Bytes read at once when pages are read (and memory held for it). */
const READ_AHEAD_BYTES = 1 << 20
/** Where lmdb's first meta page has its magic: what etcdgw's snapshots were before they were etcd's. */
const LMDB_MAGIC_AT = 24
const LMDB_MAGIC = 0xbeefc0de

export interface BoltEntry {
  /** Views of a page read for this entry: copy them to keep them. */
  key: Buffer
  value: Buffer
}

interface Page {
  id: number
  flags: number
  count: number
  /** the page's bytes, overflow pages included */
  bytes: Buffer
}

/** Where a tree walk stands: which pages it has seen (a page reached twice is a cycle or a shared page). */
class Visits {
  private readonly seen: Uint8Array

  constructor(
    pages: number,
    private readonly path: string,
  ) {
    this.seen = new Uint8Array(pages)
  }

  mark(first: number, count: number, what: string): void {
    for (let id = first; id < first + count; id++) {
      if (this.seen[id]) throw Errors.snapshotInvalid(`${this.path}: ${what}: page ${id} is referenced twice (a cycle or a shared page)`)
      this.seen[id] = 1
    }
  }

  firstUnmarked(): number {
    return this.seen.indexOf(0)
  }
}

export class BoltFile {
  readonly meta: Meta
  /** The last block of the file read for its pages (a new buffer each time: earlier pages stay valid). */
  private block: { start: number; bytes: Buffer } = { start: 0, bytes: Buffer.alloc(0) }
  /** Bytes of the file, the trailer included. */
  readonly fileBytes: number
  /** Whether the file ends in etcd's sha256 trailer (etcdctl's test: its size is 32 past a multiple of 512). */
  readonly hasTrailer: boolean

  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {
    this.fileBytes = fstatSync(fd).size
    this.hasTrailer = this.fileBytes % 512 === SHA256_TRAILER_BYTES
    this.meta = this.readMeta()
    const needed = this.meta.pgid * this.meta.pageSize
    if (needed > this.dataBytes) {
      throw this.fail(`truncated: the db has ${this.meta.pgid} pages of ${this.meta.pageSize} bytes (${needed} bytes) but the file holds ${this.dataBytes}`)
    }
  }

  /** Opens `path` and checks its meta pages. */
  static open(path: string): BoltFile {
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (err) {
      throw Errors.snapshotInvalid(`${path}: ${(err as Error).message}`)
    }
    try {
      if (!fstatSync(fd).isFile()) throw Errors.snapshotInvalid(`${path}: not a regular file`)
      return new BoltFile(fd, path)
    } catch (err) {
      closeSync(fd)
      throw err
    }
  }

  close(): void {
    closeSync(this.fd)
  }

  /** Bytes of the db, before the trailer. */
  get dataBytes(): number {
    return this.hasTrailer ? this.fileBytes - SHA256_TRAILER_BYTES : this.fileBytes
  }

  /** etcd's tx.Size(): the db's pages. */
  get size(): number {
    return this.meta.pgid * this.meta.pageSize
  }

  /** Whether the trailer is the sha256 of the db bytes (call only when hasTrailer). */
  trailerMatches(): boolean {
    return this.matchesTrailer(fileSha256(this.fd, this.dataBytes))
  }

  /**
   * trailerMatches() on a worker thread, while this one goes on reading the file: the file must stay
   * open until it settles.
   */
  async trailerMatchesAside(): Promise<boolean> {
    const worker = new Worker(new URL('./file-sha256-worker.js', import.meta.url), { workerData: { fd: this.fd, bytes: this.dataBytes } })
    const digest = await new Promise<Uint8Array | null>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the hashing thread exited with code ${code}`)))
    })
    return this.matchesTrailer(digest ? Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength) : undefined)
  }

  private matchesTrailer(digest: Buffer | undefined): boolean {
    if (!digest) throw this.fail('the file shrank while being read')
    return digest.equals(this.readAt(this.dataBytes, SHA256_TRAILER_BYTES))
  }

  /** The entries of one top-level bucket in key order; nothing when there is no such bucket. */
  *entries(bucket: string): Generator<BoltEntry> {
    const visits = new Visits(this.meta.pgid, this.path)
    for (const { key, value } of this.walk(this.meta.root, undefined, 'the root bucket', visits, true)) {
      if (key.toString('latin1') === bucket) {
        yield* this.bucketEntries(bucket, value, visits)
        return
      }
    }
  }

  /** Every top-level bucket with its entries, in order; each bucket's entries must be read before the next. */
  *buckets(): Generator<{ name: Buffer; entries: Generator<BoltEntry> }> {
    const visits = new Visits(this.meta.pgid, this.path)
    for (const { key, value } of this.walk(this.meta.root, undefined, 'the root bucket', visits, true)) {
      const name = Buffer.from(key)
      yield { name, entries: this.bucketEntries(name.toString('latin1'), Buffer.from(value), visits) }
    }
  }

  /**
   * bbolt's tx.Check, which etcdctl runs before `snapshot status`: every page below the high-water
   * mark is a meta page, the freelist, free, or in exactly one bucket's tree.
   */
  check(): void {
    const visits = new Visits(this.meta.pgid, this.path)
    visits.mark(0, 2, 'meta')
    if (this.meta.freelist !== NO_FREELIST) {
      const id = Number(this.meta.freelist)
      const page = this.readPage(id, 'the freelist')
      if (page.flags !== FREELIST_PAGE) throw this.fail(`page ${id}: the freelist page has flags 0x${page.flags.toString(16)}`)
      visits.mark(id, page.bytes.length / this.meta.pageSize, 'the freelist')
      for (const free of this.freePages(page)) visits.mark(free, 1, 'the freelist')
    }
    for (const { key, value } of this.walk(this.meta.root, undefined, 'the root bucket', visits, true)) {
      for (const _ of this.bucketEntries(key.toString('latin1'), value, visits));
    }
    if (this.meta.freelist !== NO_FREELIST) {
      const unreached = visits.firstUnmarked()
      if (unreached !== -1) throw this.fail(`page ${unreached}: unreachable and not free`)
    }
  }

  private *freePages(page: Page): Generator<number> {
    let count = page.count
    let at = PAGE_HEADER_BYTES
    if (count === FREELIST_COUNT_OVERFLOW) {
      count = this.u64(page, at, 'the freelist count')
      at += 8
    }
    if (at + count * 8 > page.bytes.length) throw this.fail(`page ${page.id}: the freelist's ${count} ids run past the page`)
    for (let i = 0; i < count; i++, at += 8) {
      const id = this.u64(page, at, 'a free page id')
      if (id < 2 || id >= this.meta.pgid) throw this.fail(`page ${page.id}: free page id ${id} is outside the db (2..${this.meta.pgid - 1})`)
      yield id
    }
  }

  private bucketEntries(name: string, value: Buffer, visits: Visits): Generator<BoltEntry> {
    const what = `bucket ${JSON.stringify(name)}`
    if (value.length < BUCKET_HEADER_BYTES) throw this.fail(`${what}: its header is ${value.length} bytes`)
    const root = value.readBigUInt64LE(0)
    if (root !== 0n) return this.walk(this.pageId(root, what), undefined, what, visits, false)
    const inline = value.subarray(BUCKET_HEADER_BYTES)
    if (inline.length < PAGE_HEADER_BYTES) throw this.fail(`${what}: its inline page is ${inline.length} bytes`)
    const page: Page = { id: 0, flags: inline.readUInt16LE(8), count: inline.readUInt16LE(10), bytes: inline }
    if (page.flags !== LEAF_PAGE) throw this.fail(`${what}: its inline page has flags 0x${page.flags.toString(16)}, not a leaf`)
    return this.walk(undefined, page, what, visits, false)
  }

  /**
   * The leaf entries of the tree at `rootId` (or of the one inline `rootPage`), depth first with an
   * explicit stack. Keys must rise strictly; entries are buckets at the top level and only there.
   */
  private *walk(rootId: number | undefined, rootPage: Page | undefined, what: string, visits: Visits, topLevel: boolean): Generator<BoltEntry> {
    const stack: Array<{ page: Page; next: number }> = []
    const enter = (id: number) => {
      const page = this.readPage(id, what)
      visits.mark(id, page.bytes.length / this.meta.pageSize, what)
      if (page.flags !== BRANCH_PAGE && page.flags !== LEAF_PAGE) {
        throw this.fail(`${what}: page ${id} is neither a branch nor a leaf (flags 0x${page.flags.toString(16)})`)
      }
      if (page.flags === BRANCH_PAGE && page.count === 0) throw this.fail(`${what}: branch page ${id} is empty`)
      if (PAGE_HEADER_BYTES + page.count * ELEMENT_BYTES > page.bytes.length) {
        throw this.fail(`${what}: page ${id}'s ${page.count} elements run past the page`)
      }
      stack.push({ page, next: 0 })
    }
    if (rootPage) stack.push({ page: rootPage, next: 0 })
    else enter(rootId!)
    let last: Buffer | undefined
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!
      const { page } = top
      if (top.next >= page.count) {
        stack.pop()
        continue
      }
      const i = top.next++
      const el = PAGE_HEADER_BYTES + i * ELEMENT_BYTES
      if (page.flags === BRANCH_PAGE) {
        const child = this.pageId(page.bytes.readBigUInt64LE(el + 8), `${what}: page ${page.id} element ${i}`)
        enter(child)
        continue
      }
      const flags = page.bytes.readUInt32LE(el)
      const pos = page.bytes.readUInt32LE(el + 4)
      const ksize = page.bytes.readUInt32LE(el + 8)
      const vsize = page.bytes.readUInt32LE(el + 12)
      const start = el + pos
      if (start + ksize + vsize > page.bytes.length) {
        throw this.fail(`${what}: page ${page.id} element ${i} (${ksize}+${vsize} bytes at ${start}) runs past the page`)
      }
      const key = page.bytes.subarray(start, start + ksize)
      const value = page.bytes.subarray(start + ksize, start + ksize + vsize)
      if (last && Buffer.compare(last, key) >= 0) throw this.fail(`${what}: page ${page.id} element ${i}: keys out of order`)
      last = key
      const isBucket = (flags & BUCKET_LEAF) !== 0
      if (topLevel && !isBucket) throw this.fail(`the root bucket: ${JSON.stringify(key.toString('latin1'))} is not a bucket`)
      if (!topLevel && isBucket) throw this.fail(`${what}: ${JSON.stringify(key.toString('latin1'))} is a nested bucket (etcd has none)`)
      yield { key, value }
    }
  }

  private pageId(id: bigint, what: string): number {
    if (id < 2n || id >= BigInt(this.meta.pgid)) throw this.fail(`${what}: page id ${id} is outside the db (2..${this.meta.pgid - 1})`)
    return Number(id)
  }

  private readPage(id: number, what: string): Page {
    const { pageSize, pgid } = this.meta
    const head = this.readAhead(id * pageSize, PAGE_HEADER_BYTES)
    if (head.readUInt32LE(0) !== id % 0x1_0000_0000 || head.readUInt32LE(4) !== Math.floor(id / 0x1_0000_0000)) {
      throw this.fail(`${what}: page ${id} says it is page ${head.readBigUInt64LE(0)}`)
    }
    const overflow = head.readUInt32LE(12)
    if (id + overflow + 1 > pgid) throw this.fail(`${what}: page ${id} overflows ${overflow} pages, past the db's end (${pgid} pages)`)
    const bytes = this.readAhead(id * pageSize, (overflow + 1) * pageSize)
    return { id, flags: head.readUInt16LE(8), count: head.readUInt16LE(10), bytes }
  }

  /**
   * Bytes at `position`, as a view of the last block read when they lie in it; else a new block is read
   * from there (a tree's pages mostly follow each other in the file, so one read serves many).
   */
  private readAhead(position: number, length: number): Buffer {
    const block = this.block
    const from = position - block.start
    if (from >= 0 && from + length <= block.bytes.length) return block.bytes.subarray(from, from + length)
    if (length > READ_AHEAD_BYTES) return this.readAt(position, length)
    this.block = { start: position, bytes: this.readAt(position, Math.max(length, Math.min(READ_AHEAD_BYTES, this.fileBytes - position))) }
    return this.block.bytes.subarray(0, length)
  }

  private u64(page: Page, at: number, what: string): number {
    const v = page.bytes.readBigUInt64LE(at)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`page ${page.id}: ${what} ${v} is out of range`)
    return Number(v)
  }

  private readAt(position: number, length: number): Buffer {
    if (position + length > this.fileBytes) throw this.fail(`truncated: ${length} bytes at ${position} are past the end (${this.fileBytes} bytes)`)
    const b = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const n = readSync(this.fd, b, done, length - done, position + done)
      if (n === 0) throw this.fail('the file shrank while being read')
      done += n
    }
    return b
  }

  /** bbolt's choice: the meta with the higher txid if its checksum holds, else the other one. */
  private readMeta(): Meta {
    const first = this.metaAt(0, 0)
    const pageSize = first.meta?.pageSize ?? DEFAULT_PAGE_SIZE
    const second = this.metaAt(pageSize, 1)
    const [a, b] = second.meta && (!first.meta || second.meta.txid > first.meta.txid) ? [second, first] : [first, second]
    const meta = a.meta ?? b.meta
    if (!meta && this.fileBytes >= LMDB_MAGIC_AT + 4 && this.readAt(LMDB_MAGIC_AT, 4).readUInt32LE(0) === LMDB_MAGIC) {
      throw this.fail('an etcdgw snapshot in its old format (an lmdb file): restore it with the etcdgw that made it, then take a new snapshot')
    }
    if (!meta) throw this.fail(`not a bbolt db: meta page 0: ${first.error}; meta page 1: ${second.error}`)
    return meta
  }

  private metaAt(position: number, id: number): { meta?: Meta; error?: string } {
    if (position + PAGE_HEADER_BYTES + META_BYTES > this.fileBytes) return { error: 'past the end of the file' }
    const page = this.readAt(position, PAGE_HEADER_BYTES + META_BYTES)
    const m = page.subarray(PAGE_HEADER_BYTES)
    if (page.readUInt16LE(8) !== META_PAGE) return { error: `flags 0x${page.readUInt16LE(8).toString(16)}, not a meta page` }
    if (m.readUInt32LE(0) !== MAGIC) return { error: 'bad magic number' }
    if (m.readUInt32LE(4) !== VERSION) return { error: `version ${m.readUInt32LE(4)}, not ${VERSION}` }
    if (m.readBigUInt64LE(META_CHECKSUMMED_BYTES) !== fnv64a(m.subarray(0, META_CHECKSUMMED_BYTES))) return { error: 'checksum mismatch' }
    const pageSize = m.readUInt32LE(8)
    if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE || (pageSize & (pageSize - 1)) !== 0) return { error: `page size ${pageSize}` }
    if (id === 1 && position !== pageSize) return { error: `page size ${pageSize} does not place it at ${position}` }
    const pgid = m.readBigUInt64LE(40)
    if (pgid < 3n || pgid * BigInt(pageSize) > BigInt(Number.MAX_SAFE_INTEGER)) return { error: `high-water mark ${pgid}` }
    const root = m.readBigUInt64LE(16)
    if (root < 2n || root >= pgid) return { error: `root bucket page ${root} is outside the db` }
    const freelist = m.readBigUInt64LE(32)
    if (freelist !== NO_FREELIST && (freelist < 2n || freelist >= pgid)) return { error: `freelist page ${freelist} is outside the db` }
    return {
      meta: {
        pageSize,
        flags: m.readUInt32LE(12),
        root: Number(root),
        sequence: m.readBigUInt64LE(24),
        freelist,
        pgid: Number(pgid),
        txid: m.readBigUInt64LE(48),
      },
    }
  }

  private fail(message: string) {
    return Errors.snapshotInvalid(`${this.path}: ${message}`)
  }
}
