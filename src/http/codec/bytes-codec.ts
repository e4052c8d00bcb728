/**
 * The one place that decides how a bytes field (key, value, range_end, prev_kv, lease keys) looks on
 * the wire. etcd's gateway uses base64; `?encoding=utf8` on any request URL (including a WebSocket
 * upgrade) switches that request or stream to UTF-8 text, everything else unchanged:
 *
 * - request: a bytes field is a JSON string taken as its UTF-8 bytes; `{"base64":"…"}` gives raw bytes.
 *   `"prefix": true` on a range, delete range, compare or watch create stands for range_end = the key's
 *   prefix end (with an empty key: every key), and may not be combined with a range_end.
 * - response: a bytes field that is valid UTF-8 is a JSON string; one that is not is written as the
 *   marker object `{"base64":"…"}` (never mangled), which a request accepts back as it is.
 */
import { isUtf8 } from 'node:buffer'
import { prefixEnd } from '../../backend/key-range.js'
import { Errors } from '../../errors.js'
import { decodeBase64 } from './base64.js'
import { goQuote } from './go-text.js'
import { JsonObject, type JsonValue, kindOf, unquote } from './json.js'
import { bool, bytes, field } from './fields.js'

export interface KeyRange {
  key: Buffer
  rangeEnd: Buffer
}

export interface BytesCodec {
  readonly name: 'base64' | 'utf8'
  /** A bytes field of a request (undefined or null: empty). */
  read(v: JsonValue | undefined): Buffer
  /** `key` and `range_end` of a message that has both. */
  keyRange(o: JsonObject): KeyRange
  /** A bytes value as JSON text. */
  write(b: Buffer): string
}

export const base64Codec: BytesCodec = {
  name: 'base64',
  read: bytes,
  keyRange: (o) => ({ key: bytes(o.get('key')), rangeEnd: bytes(field(o, 'range_end', 'rangeEnd')) }),
  write: (b) => `"${b.toString('base64')}"`,
}

const empty = Buffer.alloc(0)
const zeroByte = Buffer.from([0])

function readText(v: JsonValue | undefined): Buffer {
  if (v === undefined || v === null) return empty
  if (typeof v === 'string') {
    // The body was read as a byte string (latin1). Unquoting would turn bad UTF-8 into U+FFFD, as Go's
    // decoder does: checked first, so that no byte is silently replaced.
    if (!isUtf8(Buffer.from(v, 'latin1'))) {
      throw Errors.utf8Invalid()
    }
    return Buffer.from(unquote(v), 'latin1')
  }
  if (v instanceof JsonObject && v.names.length === 1 && v.names[0] === 'base64' && typeof v.values[0] === 'string') {
    return decodeBase64(unquote(v.values[0]))
  }
  throw Errors.utf8BytesField(kindOf(v))
}

export const utf8Codec: BytesCodec = {
  name: 'utf8',
  read: readText,
  keyRange(o) {
    const key = readText(o.get('key'))
    const rangeEndField = field(o, 'range_end', 'rangeEnd')
    if (!bool(o.get('prefix'))) return { key, rangeEnd: readText(rangeEndField) }
    if (rangeEndField !== undefined && rangeEndField !== null) {
      throw Errors.prefixWithRangeEnd()
    }
    // As etcdctl's --prefix: an empty prefix is every key, from \0 on.
    return { key: key.length === 0 ? zeroByte : key, rangeEnd: prefixEnd(key) }
  },
  write: (b) => (isUtf8(b) ? JSON.stringify(b.toString('utf8')) : `{"base64":"${b.toString('base64')}"}`),
}

/** The codec a request's URL asks for: `?encoding=utf8`, `?encoding=base64` or nothing (base64). */
export function bytesCodecOf(query: unknown): BytesCodec {
  const encoding = (query as Record<string, unknown> | undefined)?.encoding
  if (encoding === undefined || encoding === 'base64') return base64Codec
  if (encoding === 'utf8') return utf8Codec
  throw Errors.unknownEncoding(goQuote(String(encoding)))
}
