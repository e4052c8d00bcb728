/** The writes of a batch of commits, as the write-ahead log records them and lmdb later applies them. */
import { deserialize, serialize } from 'node:v8'

/** The table of every revision's rows: values are bytes, kept as they are. */
export const REVISIONS = 'revisions'
/** The store's own small values (ids, term, compaction marks, counters, alarms, auth). */
export const META = 'meta'
/** The granted leases: key = the lease's id, value = its TTL. */
export const LEASES = 'leases'

export type TableKey = Buffer | string

/** What a commit writes: puts and removals by table name (values of REVISIONS are bytes; other tables' any value lmdb-js encodes). */
export interface FileWrites {
  put(table: string, key: TableKey, value: unknown): void
  remove(table: string, key: TableKey): void
}

export interface LoggedWrite {
  table: string
  key: TableKey
  /** Absent for a removal. */
  value?: unknown
  removed: boolean
}

const REMOVED = 1
const STRING_KEY = 2
const RAW_VALUE = 4
/** A record's header: body length (u32), crc32 of seq and body (u32), batch number (f64). */
export const RECORD_HEADER_BYTES = 16
/** The recorder's buffer to begin with, and the most it keeps after a larger batch (a large delete's rows). */
const BUFFER_BYTES = 1 << 16
const BUFFER_KEPT_BYTES = 1 << 22

/**
 * Records the writes of one batch: each one both as an object (for lmdb) and encoded into one reusable
 * buffer after room for the log record's header. An encoded write: flags (u8), table name (u8 length +
 * latin1), key (u32 length + bytes), value (u32 length + bytes: raw for REVISIONS, else v8's serialization).
 */
export class WriteRecorder implements FileWrites {
  private buf = Buffer.allocUnsafe(BUFFER_BYTES)
  private at = RECORD_HEADER_BYTES
  private recorded: LoggedWrite[] = []

  put(table: string, key: TableKey, value: unknown): void {
    const raw = table === REVISIONS
    const bytes = raw ? (value as Buffer) : serialize(value)
    this.add(table, key, bytes, raw ? RAW_VALUE : 0)
    this.recorded.push({ table, key, value, removed: false })
  }

  remove(table: string, key: TableKey): void {
    this.add(table, key, undefined, REMOVED)
    this.recorded.push({ table, key, removed: true })
  }

  /**
   * The writes recorded since the last take(), and their log record: RECORD_HEADER_BYTES left for the
   * header, then their encoding (a view of the reused buffer, valid until the next write).
   */
  take(): { writes: LoggedWrite[]; record: Buffer } {
    const taken = { writes: this.recorded, record: this.buf.subarray(0, this.at) }
    this.recorded = []
    this.at = RECORD_HEADER_BYTES
    // the view taken keeps its own buffer
    if (this.buf.length > BUFFER_KEPT_BYTES) this.buf = Buffer.allocUnsafe(BUFFER_BYTES)
    return taken
  }

  private add(table: string, key: TableKey, value: Buffer | undefined, flags: number): void {
    const stringKey = typeof key === 'string'
    const keyBytes = stringKey ? Buffer.byteLength(key) : key.length
    this.room(2 + table.length + 4 + keyBytes + 4 + (value?.length ?? 0))
    const b = this.buf
    b[this.at++] = flags | (stringKey ? STRING_KEY : 0)
    b[this.at++] = table.length
    this.at += b.write(table, this.at, 'latin1')
    b.writeUInt32LE(keyBytes, this.at)
    this.at += 4
    this.at += stringKey ? b.write(key, this.at, 'utf8') : key.copy(b, this.at)
    if (!value) return
    b.writeUInt32LE(value.length, this.at)
    this.at += 4 + value.copy(b, this.at + 4)
  }

  private room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes))
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }
}

/** The writes of a record's body (what WriteRecorder encoded after the header). */
export function decodeWrites(body: Buffer): LoggedWrite[] {
  const writes: LoggedWrite[] = []
  let at = 0
  while (at < body.length) {
    const flags = body[at++]!
    const tableLength = body[at++]!
    const table = body.toString('latin1', at, (at += tableLength))
    const keyLength = body.readUInt32LE(at)
    at += 4
    const keyBytes = body.subarray(at, (at += keyLength))
    const key = flags & STRING_KEY ? keyBytes.toString('utf8') : Buffer.from(keyBytes)
    if (flags & REMOVED) {
      writes.push({ table, key, removed: true })
      continue
    }
    const valueLength = body.readUInt32LE(at)
    at += 4
    const valueBytes = body.subarray(at, (at += valueLength))
    const value = flags & RAW_VALUE ? Buffer.from(valueBytes) : deserialize(valueBytes)
    writes.push({ table, key, value, removed: false })
  }
  return writes
}
