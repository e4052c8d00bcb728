/**
 * A streaming writer of bbolt db files. The file is written front to back with no seeking: the meta
 * pages come first and name the root bucket's page and the page count, so a first pass over the same
 * entries lays the pages out without writing them and the second pass writes them. Each bucket is a
 * B+tree built bottom-up as its entries arrive in key order: a page is written once full, and the
 * branch above it gets its first key, so memory holds one open page per tree level. Entries are
 * written straight into the open page (no object or buffer per entry), and finished pages into
 * output buffers of about a megabyte, which are handed out whole.
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
   * The bucket's entries in strictly rising key order, called once per pass with the same entries. The
   * writer is done with an entry before it asks for the next, so one entry object may serve them all.
   * In the layout pass (`layout` true) only the keys' lengths and `valueBytes` count.
   */
  entries(layout: boolean): Iterable<BoltEntry>
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
  next = 2
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
  firstKey: Buffer | undefined
  /** Per element: data offset, key length, value length (leaf) or child page id (branch), flags. */
  private fields = new Float64Array(4 * 64)
  private data = Buffer.allocUnsafe(0)
  private dataBytes = 0

  constructor(readonly branch: boolean) {}

  /** Adds an element of `key` and `valueBytes` (leaf) or child `pgid` (branch); returns where its value goes in the data. */
  add(key: Buffer, valueBytes: number, pgidOrFlags: number, encoding: boolean): number {
    const i = this.count++
    if (i === 0) this.firstKey = Buffer.from(key)
    const stored = this.branch ? key.length : key.length + valueBytes
    this.bytes += ELEMENT_BYTES + stored
    if (!encoding) return 0
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
    this.firstKey = undefined
  }
}

function writeU64LE(view: DataView, at: number, n: number): void {
  view.setUint32(at, n % 0x1_0000_0000, true)
  view.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true)
}

/** One bucket's tree: level 0 is the open leaf page, each level above the open branch page over it. */
class TreeBuilder {
  private readonly levels: OpenPage[] = []

  constructor(private readonly out: PageOutput) {}

  add(entry: BoltEntry, flags = 0): void {
    const leaf = this.level(0)
    this.makeRoom(0, ELEMENT_BYTES + entry.key.length + entry.valueBytes)
    const at = leaf.add(entry.key, entry.valueBytes, flags, this.out.encoding)
    if (this.out.encoding) entry.writeValue(leaf.dataArea, at)
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
    const first = level.firstKey
    level.clear()
    level.written++
    if (first && !root) {
      this.makeRoom(depth + 1, ELEMENT_BYTES + first.length)
      this.level(depth + 1).add(first, 0, id, this.out.encoding)
    }
    return id
  }

  private level(depth: number): OpenPage {
    while (this.levels.length <= depth) this.levels.push(new OpenPage(this.levels.length > 0))
    return this.levels[depth]!
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Every page after the meta pages, as laid out: each bucket's tree, then the root bucket's (last). */
async function* writeTrees(buckets: BoltBucket[], out: PageOutput): AsyncGenerator<Buffer[], number> {
  const roots: Array<{ name: Buffer; root: number }> = []
  let handled = 0
  for (const bucket of buckets) {
    const tree = new TreeBuilder(out)
    for (const entry of bucket.entries(!out.encoding)) {
      tree.add(entry)
      if (++handled % ENTRIES_PER_TURN === 0) {
        yield out.take()
        await nextTurn()
      }
    }
    roots.push({ name: bucket.name, root: tree.finish() })
  }
  const top = new TreeBuilder(out)
  for (const { name, root } of roots.sort((a, b) => Buffer.compare(a.name, b.name))) {
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
  const counter = new PageOutput(pageSize, false)
  const counting = writeTrees(buckets, counter)
  let step = await counting.next()
  while (!step.done) step = await counting.next()
  const root = step.value
  const pgid = counter.next
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
