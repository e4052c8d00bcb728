/**
 * Splits a byte stream into JSON values as the gateway's json.Decoder does for a streaming RPC: values
 * back to back, separated by any whitespace or none, a value may arrive in pieces. Each byte is scanned
 * once and each value read once, however finely the stream is cut; a value still arriving counts
 * against the message limit as it grows. A large value is handed over unread, to be read in parts.
 */
import { Errors, EtcdError } from '../../errors.js'
import { quoteChar } from '../codec/go-text.js'
import { type JsonValue, readValueAt, ValueInParts } from '../codec/json.js'
import { JsonScanner, Scan } from '../codec/json-scanner.js'

export interface ReadResult {
  values: (JsonValue | ValueInParts)[]
  /** The stream cannot be read past this error; the values before it are good. */
  error?: EtcdError
}

const newline = Buffer.from('\n')

/**
 * The most of a message read in one go (about a millisecond): a larger value is handed over unread
 * (ValueInParts), to be read in parts of this size. Read at once, a 1 MB array of small numbers (half a
 * million values to make, then to collect) keeps every other client waiting for tens of milliseconds.
 */
export const READ_AT_ONCE_BYTES = 64 * 1024

export class JsonMessageReader {
  private readonly scanner = new JsonScanner()
  /** The bytes of the value under way that came in earlier chunks. */
  private pending: Buffer[] = []
  private pendingBytes = 0

  /** `tooLarge` is the error for an unfinished value that has grown beyond `maxPendingBytes`. */
  constructor(
    private readonly maxPendingBytes: number,
    private readonly tooLarge: (size: number) => EtcdError,
  ) {}

  /** Appends bytes and returns every value now complete. */
  push(chunk: Buffer): ReadResult {
    const values: (JsonValue | ValueInParts)[] = []
    const scanner = this.scanner
    // where the value under way starts in this chunk (0 when it began in an earlier one), -1: none
    let start = this.pendingBytes > 0 ? 0 : -1
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!
      if (start === -1 && scanner.atTop) {
        const r = scanner.step(c)
        if (r === Scan.Space) continue
        start = i
        if (r === Scan.Error) return this.fail(values, chunk, start, i + 1)
        continue
      }
      const r = scanner.step(c)
      if (r === Scan.Continue) continue
      if (r === Scan.Error) return this.fail(values, chunk, start, i + 1)
      values.push(this.take(chunk, start, r === Scan.End ? i + 1 : i))
      start = -1
      // the byte that ended a number may begin the next value
      if (r === Scan.EndBefore) i--
    }
    if (start !== -1) {
      const rest = chunk.subarray(start)
      this.pending.push(rest)
      this.pendingBytes += rest.length
      if (this.pendingBytes > this.maxPendingBytes) {
        const size = this.pendingBytes
        this.discard()
        return { values, error: this.tooLarge(size) }
      }
    }
    return { values }
  }

  /** Appends a WebSocket frame and the newline that ends it (grpc-websocket-proxy). */
  pushFrame(frame: Buffer): ReadResult {
    const first = this.push(frame)
    if (first.error) return first
    const second = this.push(newline)
    if (second.values.length > 0) first.values.push(...second.values)
    return second.error ? { values: first.values, error: second.error } : first
  }

  /** The stream ended: a value still unfinished is Go's "unexpected EOF" (a number just ends). */
  end(): ReadResult {
    if (this.pendingBytes === 0) return { values: [] }
    if (this.scanner.endsAtEof) return { values: [this.take(Buffer.alloc(0), 0, 0)] }
    return this.fail([], Buffer.alloc(0), 0, 0)
  }

  /** Forgets what is buffered, so reading can start afresh at the next chunk. */
  discard(): void {
    this.scanner.reset()
    this.pending = []
    this.pendingBytes = 0
  }

  /** The value from the pending bytes and chunk[start, end), unread when it is large. */
  private take(chunk: Buffer, start: number, end: number): JsonValue | ValueInParts {
    const text = this.text(chunk, start, end)
    this.pending = []
    this.pendingBytes = 0
    return text.length > READ_AT_ONCE_BYTES ? new ValueInParts(text) : readValueAt(text, 0)!.value
  }

  /** Reads the bad value up to the byte the scanner refused, for Go's message of what is wrong there. */
  private fail(values: ReadResult['values'], chunk: Buffer, start: number, end: number): ReadResult {
    const text = this.text(chunk, start, end)
    this.discard()
    try {
      readValueAt(text, 0)
    } catch (err) {
      if (err instanceof EtcdError) return { values, error: err }
      throw err
    }
    // the two disagree: never the case for any input tested, but a client's bytes must not crash the server
    return { values, error: Errors.jsonInvalidCharacter(quoteChar(text.charCodeAt(text.length - 1)), 'looking for beginning of value') }
  }

  /** The value's bytes as a byte string (one char per byte), as the JSON reader expects. */
  private text(chunk: Buffer, start: number, end: number): string {
    const part = chunk.subarray(start, end)
    if (this.pending.length === 0) return part.toString('latin1')
    return Buffer.concat([...this.pending, part]).toString('latin1')
  }
}
