/**
 * A streaming writer of bbolt db files. The file is written front to back with no seeking: the meta
 * pages come first and name the root bucket's page and the page count, so a first pass over the same
 * entries lays the pages out without writing them and the second pass writes them. A bucket may come
 * with its tree laid out part way already (a BucketLayout kept as its entries were added): the first
 * pass then goes on from there. Each bucket is a B+tree built bottom-up as its entries arrive in key
 * order: a page is written once full, and the branch above it gets its first key, so memory holds one
 * open page per tree level. Entries are written straight into the open page (no object or buffer per
 * entry), and finished pages into output buffers of about a megabyte, which are handed out whole.
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

/** One entry of a bucket, as the writer takes it. */
export interface BoltEntry {
  /** The key; the bucket may reuse its buffer for the next entry. */
  key: Buffer
  valueBytes: number
  /** Writes the value's `valueBytes` bytes at `target[at]` (called in the writing pass only). */
  writeValue(target: Buffer, at: number): void
}

export interface BoltBucket {
  name: Buffer
  /**
   * The bucket's entries in strictly rising key order, called once per pass with the same entries (by
   * the layout pass only when there is no laidOutPart). The writer is done with an entry before it asks
   * for the next, so one entry object may serve them all. In the layout pass (`layout` true) only the
   * keys' lengths and `valueBytes` count.
   */
  entries(layout: boolean): Iterable<BoltEntry>
  /**
   * The bucket's tree laid out through its first entries already, and the entries after those: the
   * layout pass adds those to `layout` (which is left laid out through every entry) instead of reading
   * every entry. Called once, by the layout pass.
   */
  laidOutPart?(): { layout: BucketLayout; rest: Iterable<BoltEntry> }
}

/** An entry whose value is a buffer at hand. */
export function bufferEntry(key: Buffer, value: Buffer): BoltEntry {
  return { key, valueBytes: value.length, writeValue: (target, at) => void value.copy(target, at) }
}

/** Entries handled between two turns of the event loop, so a large db does not stall the process. */
const ENTRIES_PER_TURN = 4096
/** Bytes of the buffers finished pages are written into. */
export const OUTPUT_BYTES = 1 << 20

/**
 * Where the writing pass gets the buffers it writes pages into (zeroed, of at least the bytes asked),
 * and lets go of each once it has handed out all its pages: a step's buffers are the writer's until
 * the next step is asked for, so whoever keeps a page longer holds its buffer first.
 */
export interface PageBuffers {
  take(bytes: number): Buffer
  release(view: Buffer): void
}

const newBuffers: PageBuffers = { take: (bytes) => Buffer.alloc(bytes), release: () => undefined }

/** Assigns page ids and, when `encoding`, keeps the written pages until taken. */
class PageOutput {
  private buffer: Buffer = Buffer.alloc(0)
  private filled = 0
  private ready: Buffer[] = []
  /** Buffers written to the end: let go of once the step after the one that handed out their last pages is asked for. */
  private finished: Buffer[] = []
  private handedOut: Buffer[] = []

  constructor(
    readonly pageSize: number,
    readonly encoding: boolean,
    private readonly buffers = newBuffers,
    /** The id the first page gets: a whole file's first page follows the two meta pages. */
    public next = 2,
  ) {}

  /** Assigns the next id to a page of `bytes` (before padding); returns the id and where to write it. */
  allocate(bytes: number): { id: number; pages: number; at: number } {
    const id = this.next
    const pages = Math.ceil(bytes / this.pageSize)
    this.next += pages
    if (!this.encoding) return { id, pages, at: 0 }
    const length = pages * this.pageSize
    if (this.filled + length > this.buffer.length) {
      this.settle()
      this.finished.push(this.buffer)
      // zeroed: the padding after a page's data is zeroes, not what the memory held before
      this.buffer = this.buffers.take(Math.max(OUTPUT_BYTES, length))
      this.filled = 0
    }
    const at = this.filled
    this.filled += length
    return { id, pages, at }
  }

  /** The buffer the last allocated page is written into. */
  get target(): Buffer {
    return this.buffer
  }

  /** The pages written since the last call; the buffers of the call before are let go. */
  take(): Buffer[] {
    this.settle()
    for (const buffer of this.handedOut) this.buffers.release(buffer)
    this.handedOut = this.finished
    this.finished = []
    const pages = this.ready
    this.ready = []
    return pages
  }

  /** Lets go of every buffer (once the last pages taken are no longer the writer's). */
  close(): void {
    for (const buffer of [...this.handedOut, ...this.finished, this.buffer]) this.buffers.release(buffer)
    this.handedOut = []
    this.finished = []
  }

  private settle(): void {
    if (this.filled === 0) return
    this.ready.push(this.buffer.subarray(0, this.filled))
    this.buffer = this.buffer.subarray(this.filled)
    this.filled = 0
  }
}

/**
 * One open page of a tree level: its elements' fields, and their keys and values in the order they
 * come, which become the page's data area behind the element headers when the page is written.
 */
class OpenPage {
  count = 0
  /** Bytes of the page so far: header, elements and data. */
  bytes = PAGE_HEADER_BYTES
  written = 0
  /** The length of the first element's key, which the branch above gets, and (when encoding) a copy of it. */
  firstKeyBytes = 0
  firstKey: Buffer | undefined
  /** Per element: data offset, key length, value length (leaf) or child page id (branch), flags. */
  private fields = new Float64Array(4 * 64)
  private data = Buffer.allocUnsafe(0)
  private dataBytes = 0

  constructor(readonly branch: boolean) {}

  /**
   * Adds an element of a `keyBytes` key and `valueBytes` (leaf) or child `pgid` (branch); returns where
   * its value goes in the data. Without `key` (the layout pass) only the sizes count.
   */
  add(keyBytes: number, valueBytes: number, pgidOrFlags: number, key?: Buffer): number {
    const i = this.count++
    if (i === 0) {
      this.firstKeyBytes = keyBytes
      this.firstKey = key && Buffer.from(key)
    }
    const stored = this.branch ? keyBytes : keyBytes + valueBytes
    this.bytes += ELEMENT_BYTES + stored
    if (!key) return 0
    if (this.fields.length < 4 * this.count) {
      const grown = new Float64Array(this.fields.length * 2)
      grown.set(this.fields)
      this.fields = grown
    }
    const f = 4 * i
    this.fields[f] = this.dataBytes
    this.fields[f + 1] = key.length
    this.fields[f + 2] = this.branch ? pgidOrFlags : valueBytes
    this.fields[f + 3] = this.branch ? 0 : pgidOrFlags
    if (this.dataBytes + stored > this.data.length) {
      // zeroed: a value written short would otherwise put old memory in the file
      const grown = Buffer.alloc(Math.max(2 * this.data.length, this.dataBytes + stored, 8192))
      this.data.copy(grown, 0, 0, this.dataBytes)
      this.data = grown
    }
    const at = this.dataBytes
    key.copy(this.data, at)
    this.dataBytes += stored
    return at + key.length
  }

  get dataArea(): Buffer {
    return this.data
  }

  /** Writes the page as page `id` of `pages` pages at `target[at]`. */
  encode(target: Buffer, at: number, id: number, pages: number): void {
    // a DataView's setters cost a fraction of Buffer's checked writeUInt32LE, called four times per element
    const view = new DataView(target.buffer, target.byteOffset, target.byteLength)
    writeU64LE(view, at, id)
    view.setUint16(at + 8, this.branch ? BRANCH_PAGE : LEAF_PAGE, true)
    view.setUint16(at + 10, this.count, true)
    view.setUint32(at + 12, pages - 1, true)
    const headers = PAGE_HEADER_BYTES + this.count * ELEMENT_BYTES
    for (let i = 0; i < this.count; i++) {
      const el = at + PAGE_HEADER_BYTES + i * ELEMENT_BYTES
      const f = 4 * i
      // an element's pos counts from the element itself
      const pos = headers + this.fields[f]! - (PAGE_HEADER_BYTES + i * ELEMENT_BYTES)
      if (this.branch) {
        view.setUint32(el, pos, true)
        view.setUint32(el + 4, this.fields[f + 1]!, true)
        writeU64LE(view, el + 8, this.fields[f + 2]!)
      } else {
        view.setUint32(el, this.fields[f + 3]!, true)
        view.setUint32(el + 4, pos, true)
        view.setUint32(el + 8, this.fields[f + 1]!, true)
        view.setUint32(el + 12, this.fields[f + 2]!, true)
      }
    }
    this.data.copy(target, at + headers, 0, this.dataBytes)
  }

  clear(): void {
    this.count = 0
    this.bytes = PAGE_HEADER_BYTES
    this.dataBytes = 0
    this.firstKeyBytes = 0
    this.firstKey = undefined
  }

  /** A copy of a page of the layout pass (sizes only). */
  copySizes(): OpenPage {
    const page = new OpenPage(this.branch)
    page.count = this.count
    page.bytes = this.bytes
    page.written = this.written
    page.firstKeyBytes = this.firstKeyBytes
    return page
  }
}

function writeU64LE(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % 0x1_0000_0000, true)
  view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true)
}

/** One bucket's tree: level 0 is the open leaf page, each level above the open branch page over it. */
class TreeBuilder {
  constructor(
    readonly out: PageOutput,
    readonly levels: OpenPage[] = [],
  ) {}

  /** The writing pass's add. */
  add(entry: BoltEntry, flags = 0): void {
    const leaf = this.level(0)
    this.makeRoom(0, ELEMENT_BYTES + entry.key.length + entry.valueBytes)
    // the add may grow the page's data area
    const at = leaf.add(entry.key.length, entry.valueBytes, flags, entry.key)
    entry.writeValue(leaf.dataArea, at)
  }

  /** The layout pass's add: an entry of a `keyBytes` key and a `valueBytes` value. */
  addSizes(keyBytes: number, valueBytes: number): void {
    this.makeRoom(0, ELEMENT_BYTES + keyBytes + valueBytes)
    this.level(0).add(keyBytes, valueBytes, 0)
  }

  /** Writes the open pages; returns the root page's id. */
  finish(): number {
    for (let i = 0; ; i++) {
      const level = this.level(i)
      if (level.written === 0 && i === this.levels.length - 1) return this.flush(i, true)
      if (level.count > 0) this.flush(i, false)
    }
  }

  /** Writes the open page at `depth` first when `size` more bytes would not fit it. */
  private makeRoom(depth: number, size: number): void {
    const level = this.level(depth)
    if (level.count > 0 && level.bytes + size > this.out.pageSize) this.flush(depth, false)
  }

  private flush(depth: number, root: boolean): number {
    const level = this.level(depth)
    const { id, pages, at } = this.out.allocate(level.bytes)
    if (this.out.encoding) level.encode(this.out.target, at, id, pages)
    const { count, firstKeyBytes, firstKey } = level
    level.clear()
    level.written++
    if (count > 0 && !root) {
      this.makeRoom(depth + 1, ELEMENT_BYTES + firstKeyBytes)
      this.level(depth + 1).add(firstKeyBytes, 0, id, firstKey)
    }
    return id
  }

  private level(depth: number): OpenPage {
    while (this.levels.length <= depth) this.levels.push(new OpenPage(this.levels.length > 0))
    return this.levels[depth]!
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** A laid-out tree's size: its pages, and its root page's index among them. */
export interface TreeShape {
  pages: number
  root: number
}

/**
 * One bucket's tree laid out (not written) an entry at a time, in key order, and carried on as more
 * entries follow: a layout pass can start from one kept since an earlier pass. Its page ids count from
 * 0, as if its tree were the file's first.
 */
export class BucketLayout {
  private constructor(private readonly tree: TreeBuilder) {}

  static empty(pageSize = DEFAULT_PAGE_SIZE): BucketLayout {
    return new BucketLayout(new TreeBuilder(new PageOutput(pageSize, false, newBuffers, 0)))
  }

  /** The layout `save()` made; throws when the numbers are not one. */
  static restore(saved: readonly number[]): BucketLayout {
    const [pageSize = 0, next = -1, depth = -1] = saved
    const valid = saved.every((n) => Number.isSafeInteger(n) && n >= 0) && pageSize >= PAGE_HEADER_BYTES && saved.length === 3 + 4 * depth
    if (!valid) throw new Error('not a bucket layout')
    const levels: OpenPage[] = []
    for (let i = 0, at = 3; i < depth; i++, at += 4) {
      const page = new OpenPage(i > 0)
      ;[page.count, page.bytes, page.written, page.firstKeyBytes] = saved.slice(at, at + 4) as [number, number, number, number]
      if (page.bytes < PAGE_HEADER_BYTES) throw new Error('not a bucket layout')
      levels.push(page)
    }
    return new BucketLayout(new TreeBuilder(new PageOutput(pageSize, false, newBuffers, next), levels))
  }

  /** Adds an entry of a `keyBytes` key and a `valueBytes` value, after every entry added so far. */
  add(keyBytes: number, valueBytes: number): void {
    this.tree.addSizes(keyBytes, valueBytes)
  }

  copy(): BucketLayout {
    const { out, levels } = this.tree
    return new BucketLayout(new TreeBuilder(new PageOutput(out.pageSize, false, newBuffers, out.next), levels.map((l) => l.copySizes())))
  }

  /** The tree of the entries so far, finished (this layout still takes more). */
  shape(): TreeShape {
    const { tree } = this.copy()
    const root = tree.finish()
    return { pages: tree.out.next, root }
  }

  /** The layout as numbers, for restore(). */
  save(): number[] {
    const { out, levels } = this.tree
    return [out.pageSize, out.next, levels.length, ...levels.flatMap((l) => [l.count, l.bytes, l.written, l.firstKeyBytes])]
  }
}

const byName = (a: { name: Buffer }, b: { name: Buffer }) => Buffer.compare(a.name, b.name)

/** The layout pass: each bucket's tree, then the root bucket's (last); returns the root bucket's page and the page count. */
async function layOutTrees(buckets: BoltBucket[], pageSize: number): Promise<{ root: number; pgid: number }> {
  let next = 2
  const roots: Array<{ name: Buffer; root: number }> = []
  let handled = 0
  for (const bucket of buckets) {
    const { layout, rest } = bucket.laidOutPart?.() ?? { layout: BucketLayout.empty(pageSize), rest: bucket.entries(true) }
    for (const entry of rest) {
      layout.add(entry.key.length, entry.valueBytes)
      if (++handled % ENTRIES_PER_TURN === 0) await nextTurn()
    }
    const shape = layout.shape()
    roots.push({ name: bucket.name, root: next + shape.root })
    next += shape.pages
  }
  const top = BucketLayout.empty(pageSize)
  for (const { name } of roots.sort(byName)) top.add(name.length, BUCKET_HEADER_BYTES)
  const shape = top.shape()
  return { root: next + shape.root, pgid: next + shape.pages }
}

/** The writing pass: every page after the meta pages, as laid out; returns the root bucket's page. */
async function* writeTrees(buckets: BoltBucket[], out: PageOutput): AsyncGenerator<Buffer[], number> {
  const roots: Array<{ name: Buffer; root: number }> = []
  let handled = 0
  for (const bucket of buckets) {
    const tree = new TreeBuilder(out)
    for (const entry of bucket.entries(false)) {
      tree.add(entry)
      if (++handled % ENTRIES_PER_TURN === 0) {
        yield out.take()
        await nextTurn()
      }
    }
    roots.push({ name: bucket.name, root: tree.finish() })
  }
  const top = new TreeBuilder(out)
  for (const { name, root } of roots.sort(byName)) {
    const header = Buffer.alloc(BUCKET_HEADER_BYTES)
    writeU64LE(new DataView(header.buffer, header.byteOffset, header.byteLength), 0, root)
    top.add(bufferEntry(name, header), BUCKET_LEAF)
  }
  const root = top.finish()
  yield out.take()
  return root
}

export interface BoltLayout {
  /** Bytes of the whole file. */
  size: number
  /** The file's pages, front to back (each yield one or more whole pages), written into `buffers`' buffers. */
  pages(buffers?: PageBuffers): AsyncGenerator<Buffer[]>
}

/**
 * Lays out a db of `buckets` (a first pass over their entries) and returns its size and the writer of
 * its pages. Both meta pages hold the same meta (txid `txid` and one less), as bbolt's tx.WriteTo
 * writes them; no freelist is written (bbolt's NoFreelistSync, as etcd 3.4's own files have it).
 */
export async function layOutBolt(buckets: BoltBucket[], txid = 2n, pageSize = DEFAULT_PAGE_SIZE): Promise<BoltLayout> {
  const { root, pgid } = await layOutTrees(buckets, pageSize)
  return {
    size: pgid * pageSize,
    async *pages(buffers) {
      const meta = { pageSize, flags: 0, root, sequence: 0n, freelist: NO_FREELIST, pgid, txid }
      yield [encodeMetaPage(meta, 0), encodeMetaPage({ ...meta, txid: txid - 1n }, 1)]
      const out = new PageOutput(pageSize, true, buffers)
      const written = yield* writeTrees(buckets, out)
      out.close()
      if (written !== root || out.next !== pgid) {
        throw Errors.snapshotChanged(out.next, pgid)
      }
    },
  }
}
