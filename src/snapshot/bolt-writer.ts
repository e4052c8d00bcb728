/**
 * A streaming writer of bbolt db files. The file is written front to back with no seeking: the meta
 * pages come first and name the root bucket's page and the page count, so a first pass over the same
 * entries lays the pages out without writing them and the second pass writes them. Each bucket is a
 * B+tree built bottom-up as its entries arrive in key order: a page is written once full, and the
 * branch above it gets its first key, so memory holds one open page per tree level.
 */
import {
  BRANCH_PAGE,
  BUCKET_HEADER_BYTES,
  BUCKET_LEAF,
  DEFAULT_PAGE_SIZE,
  ELEMENT_BYTES,
  encodeMetaPage,
  LEAF_PAGE,
  NO_FREELIST,
  PAGE_HEADER_BYTES,
} from './bolt-format.js'
import { Errors } from '../errors.js'

export interface BoltBucket {
  name: Buffer
  /**
   * The bucket's entries in strictly rising key order, called once per pass with the same entries. In
   * the layout pass (`layout` true) a value may be given by its length alone.
   */
  entries(layout: boolean): Iterable<{ key: Buffer; value: Buffer | number }>
}

interface Element {
  key: Buffer
  /** the value, or (layout pass) its length */
  value: Buffer | number
  flags: number
}

const lengthOf = (v: Buffer | number) => (typeof v === 'number' ? v : v.length)

/** Entries handled between two turns of the event loop, so a large db does not stall the process. */
const ENTRIES_PER_TURN = 4096

/** Lays out pages: assigns their ids and, when `encoding`, keeps their bytes until taken. */
class PageWriter {
  next = 2
  private ready: Buffer[] = []

  constructor(
    readonly pageSize: number,
    readonly encoding: boolean,
  ) {}

  /** Lays out one page of `elements` (`bytes` long before padding); returns its id. */
  write(flags: number, elements: Element[], bytes: number): number {
    const id = this.next
    const pages = Math.ceil(bytes / this.pageSize)
    this.next += pages
    if (this.encoding) this.ready.push(this.encode(id, flags, elements, pages))
    return id
  }

  /** The pages written since the last call. */
  take(): Buffer[] {
    const pages = this.ready
    this.ready = []
    return pages
  }

  private encode(id: number, flags: number, elements: Element[], pages: number): Buffer {
    const page = Buffer.alloc(pages * this.pageSize)
    page.writeBigUInt64LE(BigInt(id), 0)
    page.writeUInt16LE(flags, 8)
    page.writeUInt16LE(elements.length, 10)
    page.writeUInt32LE(pages - 1, 12)
    let data = PAGE_HEADER_BYTES + elements.length * ELEMENT_BYTES
    elements.forEach((e, i) => {
      const at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES
      const value = e.value as Buffer
      if (flags === BRANCH_PAGE) {
        page.writeUInt32LE(data - at, at)
        page.writeUInt32LE(e.key.length, at + 4)
        value.copy(page, at + 8)
      } else {
        page.writeUInt32LE(e.flags, at)
        page.writeUInt32LE(data - at, at + 4)
        page.writeUInt32LE(e.key.length, at + 8)
        page.writeUInt32LE(value.length, at + 12)
      }
      data += e.key.copy(page, data)
      if (flags !== BRANCH_PAGE) data += value.copy(page, data)
    })
    return page
  }
}

/** One bucket's tree: level 0 is the open leaf page, each level above the open branch page over it. */
class TreeBuilder {
  private readonly levels: Array<{ elements: Element[]; bytes: number; written: number }> = []

  constructor(private readonly pages: PageWriter) {}

  add(key: Buffer, value: Buffer | number, flags = 0): void {
    this.addAt(0, { key, value, flags })
  }

  /** Writes the open pages; returns the root page's id. */
  finish(): number {
    for (let i = 0; ; i++) {
      const level = this.level(i)
      if (level.written === 0 && i === this.levels.length - 1) return this.flush(i, true)
      if (level.elements.length > 0) this.flush(i, false)
    }
  }

  private addAt(depth: number, e: Element): void {
    const level = this.level(depth)
    const size = ELEMENT_BYTES + e.key.length + (depth === 0 ? lengthOf(e.value) : 0)
    if (level.elements.length > 0 && level.bytes + size > this.pages.pageSize) this.flush(depth, false)
    level.elements.push(e)
    level.bytes += size
  }

  private flush(depth: number, root: boolean): number {
    const level = this.level(depth)
    const id = this.pages.write(depth === 0 ? LEAF_PAGE : BRANCH_PAGE, level.elements, level.bytes)
    const first = level.elements[0]
    level.elements = []
    level.bytes = PAGE_HEADER_BYTES
    level.written++
    if (first && !root) this.addAt(depth + 1, { key: first.key, value: u64le(id), flags: 0 })
    return id
  }

  private level(depth: number) {
    while (this.levels.length <= depth) this.levels.push({ elements: [], bytes: PAGE_HEADER_BYTES, written: 0 })
    return this.levels[depth]!
  }
}

function u64le(n: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt(n))
  return b
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Every page after the meta pages, as laid out: each bucket's tree, then the root bucket's (last). */
async function* writeTrees(buckets: BoltBucket[], pages: PageWriter): AsyncGenerator<Buffer[], number> {
  const roots: Array<{ name: Buffer; root: number }> = []
  let handled = 0
  for (const bucket of buckets) {
    const tree = new TreeBuilder(pages)
    for (const { key, value } of bucket.entries(!pages.encoding)) {
      tree.add(key, value)
      if (++handled % ENTRIES_PER_TURN === 0) {
        yield pages.take()
        await nextTurn()
      }
    }
    roots.push({ name: bucket.name, root: tree.finish() })
    yield pages.take()
  }
  const top = new TreeBuilder(pages)
  for (const { name, root } of roots.sort((a, b) => Buffer.compare(a.name, b.name))) {
    const header = Buffer.alloc(BUCKET_HEADER_BYTES)
    header.writeBigUInt64LE(BigInt(root), 0)
    top.add(name, header, BUCKET_LEAF)
  }
  const root = top.finish()
  yield pages.take()
  return root
}

export interface BoltLayout {
  /** Bytes of the whole file. */
  size: number
  /** The file's pages, front to back (each yield one or more whole pages). */
  pages(): AsyncGenerator<Buffer[]>
}

/**
 * Lays out a db of `buckets` (a first pass over their entries) and returns its size and the writer of
 * its pages. Both meta pages hold the same meta (txid `txid` and one less), as bbolt's tx.WriteTo
 * writes them; no freelist is written (bbolt's NoFreelistSync, as etcd 3.4's own files have it).
 */
export async function layOutBolt(buckets: BoltBucket[], txid = 2n, pageSize = DEFAULT_PAGE_SIZE): Promise<BoltLayout> {
  const counter = new PageWriter(pageSize, false)
  const counting = writeTrees(buckets, counter)
  let step = await counting.next()
  while (!step.done) step = await counting.next()
  const root = step.value
  const pgid = counter.next
  return {
    size: pgid * pageSize,
    async *pages() {
      const meta = { pageSize, flags: 0, root, sequence: 0n, freelist: NO_FREELIST, pgid, txid }
      yield [encodeMetaPage(meta, 0), encodeMetaPage({ ...meta, txid: txid - 1n }, 1)]
      const writer = new PageWriter(pageSize, true)
      const written = yield* writeTrees(buckets, writer)
      if (written !== root || writer.next !== pgid) {
        throw Errors.snapshotChanged(writer.next, pgid)
      }
    },
  }
}
