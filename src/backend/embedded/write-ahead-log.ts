/**
 * The store's write-ahead log (etcd's WAL beside its bbolt file): each batch of writes is one record,
 * acknowledged once the record is flushed with one `fdatasync`; lmdb takes the batches later, several
 * at a time. Segments are files of SEGMENT_BYTES written full of zeros before use (or reused once lmdb
 * holds all they record), so that a flush overwrites blocks the file system has allocated already and
 * commits no metadata of its own.
 */
import { closeSync, fdatasync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { Errors } from '../../errors.js'
import { syncPath } from '../../sync-path.js'
import { PRIVATE_FILE_MODE } from './data-dir.js'
import { RECORD_HEADER_BYTES } from './logged-writes.js'

/** Bytes of a segment: at ~30,000 small puts a second, about a second of writes. */
export const SEGMENT_BYTES = 4 << 20
const SEGMENT_NAME = /^wal-([0-9a-f]{16})\.log$/
/** Zeros written at once when a segment is made. */
const ZEROS = Buffer.alloc(1 << 20)
/** Segments lmdb no longer needs kept for reuse (beyond that they are removed). */
const SEGMENTS_KEPT = 2

export interface LogRecord {
  seq: number
  body: Buffer
}

interface Segment {
  path: string
  size: number
}

interface Active extends Segment {
  fd: number
  offset: number
  /** The last batch recorded in it (0: none yet). */
  lastSeq: number
}

/** Frames `record` (RECORD_HEADER_BYTES of room, then the body) as batch `seq`, in place. */
export function frameRecord(record: Buffer, seq: number): Buffer {
  record.writeUInt32LE(record.length - RECORD_HEADER_BYTES, 0)
  record.writeDoubleLE(seq, 8)
  record.writeUInt32LE(crc32(record.subarray(8)), 4)
  return record
}

/** The whole records of a segment from its start, up to the first that is torn, stale zeros or garbage. */
function* segmentRecords(data: Buffer): Generator<LogRecord> {
  let at = 0
  while (at + RECORD_HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(at)
    const end = at + RECORD_HEADER_BYTES + length
    if (length === 0 || end > data.length) return
    if (crc32(data.subarray(at + 8, end)) !== data.readUInt32LE(at + 4)) return
    yield { seq: data.readDoubleLE(at + 8), body: data.subarray(at + RECORD_HEADER_BYTES, end) }
    at = end
  }
}

export class WriteAheadLog {
  private active: Active | undefined
  /** Segments written full and not yet released, oldest first. */
  private retired: Array<Segment & { lastSeq: number }> = []
  /** Whole segments of SEGMENT_BYTES free for reuse. */
  private free: string[] = []
  /** Segments found at open of another size (a large record's): removed by start(). */
  private odd: string[] = []
  /** The next segment, being made ready (zeroed or renamed from a free one). */
  private spare: Promise<Segment> | undefined
  private generation = 0
  /** Set once a record may have been written part way: nothing is appended after it. */
  private failure: Error | undefined
  /** Segments being made ready or removed in the background: close() waits for them. */
  private readonly background = new Set<Promise<void>>()

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /**
   * Opens the log in `dir` and reads the records of the batches after `after` (what the store file
   * holds), which must follow it without a gap. Records of older batches, torn ones and those of a
   * reused segment's earlier use are passed over. Call start() once the store file holds what it returns.
   */
  static open(dir: string, after: number, segmentBytes = SEGMENT_BYTES): { log: WriteAheadLog; records: LogRecord[] } {
    const log = new WriteAheadLog(dir, segmentBytes)
    const bySeq = new Map<number, LogRecord>()
    for (const name of readdirSync(dir)) {
      const match = SEGMENT_NAME.exec(name)
      if (!match) continue
      log.generation = Math.max(log.generation, parseInt(match[1]!, 16))
      const path = join(dir, name)
      const data = readFileSync(path)
      for (const record of segmentRecords(data)) if (record.seq > after) bySeq.set(record.seq, record)
      ;(data.length === segmentBytes ? log.free : log.odd).push(path)
    }
    const records: LogRecord[] = []
    for (let seq = after + 1; bySeq.has(seq); seq++) records.push(bySeq.get(seq)!)
    if (records.length !== bySeq.size) throw Errors.logDamaged(dir, after + records.length + 1)
    return { log, records }
  }

  /** From here on, what the log held before is no longer needed (the store file holds it). */
  start(): void {
    for (const path of this.odd.splice(0)) rmSync(path, { force: true })
    while (this.free.length > SEGMENTS_KEPT) rmSync(this.free.pop()!, { force: true })
  }

  /**
   * Writes the framed `record` of batch `seq` and flushes it. One at a time: the caller waits for each.
   * A record that could not be made room for fails alone; one that failed while written or flushed
   * fails every later one too.
   */
  async append(seq: number, record: Buffer): Promise<void> {
    if (this.failure) throw this.failure
    if (!this.active || this.active.offset + record.length > this.active.size) await this.nextSegment(record.length)
    const active = this.active!
    try {
      writeSync(active.fd, record, 0, record.length, active.offset)
      active.offset += record.length
      active.lastSeq = seq
      await new Promise<void>((resolve, reject) => fdatasync(active.fd, (err) => (err ? reject(err) : resolve())))
    } catch (err) {
      this.failure = err as Error
      throw err
    }
    if (!this.spare && active.offset * 2 > active.size) this.prepareSpare()
  }

  /** lmdb holds every batch up to `seq`: the segments recording nothing later are reused or removed. */
  release(seq: number): void {
    while (this.retired.length > 0 && this.retired[0]!.lastSeq <= seq) {
      const done = this.retired.shift()!
      if (done.size === this.segmentBytes && this.free.length < SEGMENTS_KEPT) this.free.push(done.path)
      else this.inBackground(rm(done.path, { force: true }))
    }
  }

  /** Closes the segment written, once what runs in the background is done (a log opened next finds the segments settled). */
  async close(): Promise<void> {
    await Promise.all(this.background)
    if (this.active) closeSync(this.active.fd)
    this.active = undefined
  }

  private inBackground(work: Promise<unknown>): void {
    const settled = work.then(noop, noop)
    this.background.add(settled)
    void settled.then(() => this.background.delete(settled))
  }

  private prepareSpare(): void {
    const spare = this.prepare(this.segmentBytes)
    // a failure is met by the append that waits for it
    spare.catch(() => {
      if (this.spare === spare) this.spare = undefined
    })
    this.spare = spare
    this.inBackground(spare)
  }

  private async nextSegment(bytes: number): Promise<void> {
    let next: Segment
    if (bytes <= this.segmentBytes) {
      if (!this.spare) this.prepareSpare()
      next = await this.spare!
      this.spare = undefined
    } else {
      // a record larger than a segment gets one of its own size
      next = await this.prepare(bytes)
    }
    const fd = openSync(next.path, 'r+')
    const old = this.active
    if (old) {
      closeSync(old.fd)
      this.retired.push({ path: old.path, size: old.size, lastSeq: old.lastSeq })
    }
    this.active = { ...next, fd, offset: 0, lastSeq: 0 }
  }

  /** A segment of `size` bytes whose name and blocks are durable: a free one renamed, or a new one written full of zeros. */
  private async prepare(size: number): Promise<Segment> {
    const path = join(this.dir, `wal-${(++this.generation).toString(16).padStart(16, '0')}.log`)
    const reused = size === this.segmentBytes ? this.free.pop() : undefined
    if (reused) {
      await rename(reused, path)
    } else {
      try {
        const file = await open(path, 'wx', PRIVATE_FILE_MODE)
        try {
          for (let at = 0; at < size; at += ZEROS.length) await file.write(ZEROS, 0, Math.min(ZEROS.length, size - at), at)
          await file.sync()
        } finally {
          await file.close()
        }
      } catch (err) {
        await rm(path, { force: true }).catch(noop)
        throw err
      }
    }
    syncPath(this.dir)
    return { path, size }
  }
}

function noop(): void {}
