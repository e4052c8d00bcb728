/**
 * Splits a byte stream into JSON values as the gateway's json.Decoder does for a streaming RPC: values
 * back to back, separated by any whitespace or none, a value may arrive in pieces. Bytes are kept as
 * a byte string (one char per byte), as the JSON reader expects.
 */
import { EtcdError } from '../../errors.js'
import { JsonNumber, type JsonValue, readValueAt } from '../codec/json.js'

export interface ReadResult {
  values: JsonValue[]
  /** The stream cannot be read past this error; the values before it are good. */
  error?: EtcdError
}

const newline = Buffer.from('\n')

export class JsonMessageReader {
  private text = ''

  /** `tooLarge` is the error for an unfinished value that has grown beyond `maxPendingBytes`. */
  constructor(
    private readonly maxPendingBytes: number,
    private readonly tooLarge: (size: number) => EtcdError,
  ) {}

  /** Appends bytes and returns every value now complete. */
  push(chunk: Buffer): ReadResult {
    this.text += chunk.toString('latin1')
    return this.drain(false)
  }

  /** Appends a WebSocket frame and the newline that ends it (grpc-websocket-proxy). */
  pushFrame(frame: Buffer): ReadResult {
    return this.push(Buffer.concat([frame, newline]))
  }

  /** The stream ended: a value still unfinished is Go's "unexpected EOF". */
  end(): ReadResult {
    return this.drain(true)
  }

  /** Forgets what is buffered, so reading can start afresh at the next chunk. */
  discard(): void {
    this.text = ''
  }

  private drain(atEnd: boolean): ReadResult {
    const values: JsonValue[] = []
    let pos = 0
    try {
      for (;;) {
        const next = readValueAt(this.text, pos)
        if (next === undefined) {
          pos = this.text.length
          break
        }
        // A number at the very end may go on in the next chunk.
        if (!atEnd && next.value instanceof JsonNumber && next.end === this.text.length) break
        values.push(next.value)
        pos = next.end
      }
    } catch (err) {
      if (!(err instanceof EtcdError)) throw err
      if (atEnd || err.message !== 'unexpected EOF') {
        this.text = ''
        return { values, error: err }
      }
    }
    this.text = this.text.slice(pos)
    if (this.text.length > this.maxPendingBytes) {
      const size = this.text.length
      this.text = ''
      return { values, error: this.tooLarge(size) }
    }
    return { values }
  }
}
