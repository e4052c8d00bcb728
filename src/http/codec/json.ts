/**
 * A JSON reader that fails exactly where Go's encoding/json fails, with Go's messages, because etcd's
 * gateway (grpc-gateway v1 + golang/protobuf jsonpb) answers every syntax error with that text.
 *
 * Input is a "byte string": one char per byte (Buffer#latin1Slice), so positions, invalid UTF-8 and
 * the characters quoted in messages are those of the wire bytes.
 * Values keep their source text where jsonpb re-reads it: numbers as their literal, strings as the raw
 * text between the quotes (escapes not processed; see `unquote`).
 */
import { Errors } from '../../errors.js'
import { quoteChar, utf8SequenceLength } from './go-text.js'

export class JsonNumber {
  constructor(readonly text: string) {}
}

/** An object's members in input order; duplicate names are kept, lookups take the last (Go maps). */
export class JsonObject {
  readonly names: string[] = []
  readonly values: JsonValue[] = []

  /** The last value under `name`, or undefined when absent. */
  get(name: string): JsonValue | undefined {
    const names = this.names
    for (let i = names.length - 1; i >= 0; i--) if (names[i] === name) return this.values[i]
    return undefined
  }
}

/** A string value is its raw source text between the quotes. */
export type JsonValue = null | boolean | string | JsonNumber | JsonObject | JsonValue[]

/** The kind word Go's UnmarshalTypeError uses. */
export function kindOf(v: JsonValue): 'string' | 'number' | 'bool' | 'object' | 'array' | 'null' {
  if (v === null) return 'null'
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'bool'
  if (v instanceof JsonNumber) return 'number'
  if (v instanceof JsonObject) return 'object'
  return 'array'
}

/** Go's encoding/json nesting limit. */
export const maxNestingDepth = 10000

/**
 * Reads the first JSON value of `text` as Go's json.Decoder does: whatever follows it is ignored, a
 * truncated value is `unexpected EOF`. Returns undefined when `text` holds only whitespace (io.EOF,
 * which the gateway treats as an empty request).
 */
export function readFirstValue(text: string): JsonValue | undefined {
  const p = new Parser(text, true)
  p.skipSpace()
  if (p.i >= text.length) return undefined
  return p.value()
}

/**
 * Reads the next value of a JSON stream from `start`, as successive json.Decoder.Decode calls do.
 * Returns undefined when only whitespace is left; `end` is the index just after the value.
 */
export function readValueAt(text: string, start: number): { value: JsonValue; end: number } | undefined {
  const p = new Parser(text, true)
  p.i = start
  p.skipSpace()
  if (p.i >= text.length) return undefined
  const value = p.value()
  return { value, end: p.i }
}

/**
 * The value readValueAt(text, 0) reads, read a part at a time: a large message is read in parts with other
 * clients served in between. The parts end between elements; whatever `text` holds, the value (or the
 * error) is the one readValueAt gives.
 */
export class ValueInParts {
  private readonly parser: Parser

  constructor(text: string) {
    this.parser = new Parser(text, true)
    this.parser.skipSpace()
  }

  /** Reads on up to the first element that starts `chars` characters or more further: the value once whole. */
  readOn(chars: number): JsonValue | undefined {
    return this.parser.valueBefore(this.parser.i + chars)
  }
}

/** Parses `text` as exactly one JSON value, as Go's json.Unmarshal does (its messages at EOF and after the value). */
export function parseWhole(text: string): JsonValue {
  const p = new Parser(text, false)
  p.skipSpace()
  const v = p.value()
  p.skipSpace()
  if (p.i < text.length) p.fail('after top-level value')
  return v
}

class Parser {
  i = 0
  /** The containers of the value under way, innermost last. */
  private readonly open: (JsonObject | JsonValue[])[] = []

  constructor(
    private readonly s: string,
    /** true: json.Decoder (EOF is "unexpected EOF"); false: json.Unmarshal's checkValid. */
    private readonly streaming: boolean,
  ) {}

  skipSpace(): void {
    const s = this.s
    let i = this.i
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
    this.i = i
  }

  /**
   * Throws Go's syntax error for the char at `i`. At the end of input Go feeds a space to its scanner:
   * contexts where a space is itself invalid report it (`spaceInvalid`), others say the input ended.
   */
  fail(context: string, spaceInvalid = false): never {
    if (this.i >= this.s.length) {
      if (this.streaming) throw Errors.jsonUnexpectedEof()
      if (!spaceInvalid) throw Errors.jsonUnexpectedEnd()
      throw Errors.jsonInvalidCharacter("' '", context)
    }
    throw Errors.jsonInvalidCharacter(quoteChar(this.s.charCodeAt(this.i)), context)
  }

  /** One value, iteratively: etcd accepts nesting up to Go's 10000 levels, deeper than a JS stack goes. */
  value(): JsonValue {
    return this.valueBefore(Infinity)!
  }

  /**
   * Reads the value on from where the last call stopped, and stops (undefined) before the first element
   * that starts at `limit` or later; called again, it goes on from there.
   */
  valueBefore(limit: number): JsonValue | undefined {
    const s = this.s
    const open = this.open
    for (;;) {
      if (this.i >= limit) return undefined
      let v: JsonValue
      const c = s.charCodeAt(this.i)
      if (c === 0x7b || c === 0x5b) {
        if (open.length >= maxNestingDepth) this.fail('exceeded max depth')
        this.i++
        this.skipSpace()
        if (c === 0x7b) {
          const obj = new JsonObject()
          if (s.charCodeAt(this.i) !== 0x7d) {
            open.push(obj)
            this.memberName(obj)
            continue
          }
          v = obj
        } else {
          const arr: JsonValue[] = []
          if (s.charCodeAt(this.i) !== 0x5d) {
            open.push(arr)
            continue
          }
          v = arr
        }
        this.i++
      } else {
        v = this.scalar(c)
      }
      // Attach the finished value to its container, closing containers that end here.
      for (;;) {
        const top = open[open.length - 1]
        if (top === undefined) return v
        this.skipSpace()
        const d = s.charCodeAt(this.i)
        if (top instanceof JsonObject) {
          top.values.push(v)
          if (d === 0x2c) {
            this.i++
            this.skipSpace()
            this.memberName(top)
            break
          }
          if (d !== 0x7d) this.fail('after object key:value pair')
        } else {
          top.push(v)
          if (d === 0x2c) {
            this.i++
            this.skipSpace()
            break
          }
          if (d !== 0x5d) this.fail('after array element')
        }
        this.i++
        open.pop()
        v = top
      }
    }
  }

  /** Reads `"name" :` up to the member's value. */
  private memberName(obj: JsonObject): void {
    const s = this.s
    if (s.charCodeAt(this.i) !== 0x22) this.fail('looking for beginning of object key string')
    const raw = this.string()
    obj.names.push(raw.indexOf('\\') === -1 ? raw : unquote(raw))
    this.skipSpace()
    if (s.charCodeAt(this.i) !== 0x3a) this.fail('after object key')
    this.i++
    this.skipSpace()
  }

  private scalar(c: number): JsonValue {
    switch (c) {
      case 0x22: // "
        return this.string()
      case 0x74: // t
        this.literal('true')
        return true
      case 0x66: // f
        this.literal('false')
        return false
      case 0x6e: // n
        this.literal('null')
        return null
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number()
        return this.fail('looking for beginning of value')
    }
  }

  /** Returns the raw text between the quotes; `i` ends after the closing quote. */
  private string(): string {
    const s = this.s
    const start = ++this.i
    for (;;) {
      const c = s.charCodeAt(this.i)
      if (c === 0x22) {
        const raw = s.slice(start, this.i)
        this.i++
        return raw
      }
      if (c === 0x5c) {
        this.i++
        const e = s.charCodeAt(this.i)
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            this.i++
            if (!isHex(s.charCodeAt(this.i))) this.fail('in \\u hexadecimal character escape', true)
          }
        } else if (!isSimpleEscape(e)) {
          this.fail('in string escape code', true)
        }
        this.i++
        continue
      }
      // NaN at the end of input also lands here and fails as "unexpected EOF" / "end of JSON input".
      if (!(c >= 0x20)) this.fail('in string literal')
      this.i++
    }
  }

  private number(): JsonNumber {
    const s = this.s
    const start = this.i
    if (s.charCodeAt(this.i) === 0x2d) {
      this.i++
      const c = s.charCodeAt(this.i)
      if (!(c >= 0x30 && c <= 0x39)) this.fail('in numeric literal', true)
    }
    if (s.charCodeAt(this.i) === 0x30) this.i++
    else while (isDigit(s.charCodeAt(this.i))) this.i++
    if (s.charCodeAt(this.i) === 0x2e) {
      this.i++
      if (!isDigit(s.charCodeAt(this.i))) this.fail('after decimal point in numeric literal', true)
      while (isDigit(s.charCodeAt(this.i))) this.i++
    }
    const e = s.charCodeAt(this.i)
    if (e === 0x65 || e === 0x45) {
      this.i++
      const sign = s.charCodeAt(this.i)
      if (sign === 0x2b || sign === 0x2d) this.i++
      if (!isDigit(s.charCodeAt(this.i))) this.fail('in exponent of numeric literal', true)
      while (isDigit(s.charCodeAt(this.i))) this.i++
    }
    return new JsonNumber(s.slice(start, this.i))
  }

  private literal(word: string): void {
    const s = this.s
    this.i++
    for (let k = 1; k < word.length; k++) {
      if (s.charCodeAt(this.i) !== word.charCodeAt(k)) {
        this.fail(`in literal ${word} (expecting ${quoteChar(word.charCodeAt(k))})`, true)
      }
      this.i++
    }
  }
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)
}

export function isSimpleEscape(c: number): boolean {
  // " \ / b f n r t
  return c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74
}

const replacementChar = '\xef\xbf\xbd'

/**
 * Go's json unquote of a raw string (already checked by the parser) into a byte string: escapes
 * decoded to UTF-8, invalid UTF-8 and lone surrogates replaced by U+FFFD.
 */
export function unquote(raw: string): string {
  if (isPlainAscii(raw)) return raw
  let out = ''
  let i = 0
  const n = raw.length
  while (i < n) {
    const c = raw.charCodeAt(i)
    if (c === 0x5c) {
      const e = raw.charCodeAt(i + 1)
      i += 2
      switch (e) {
        case 0x62: out += '\b'; break
        case 0x66: out += '\f'; break
        case 0x6e: out += '\n'; break
        case 0x72: out += '\r'; break
        case 0x74: out += '\t'; break
        case 0x75: {
          let r = parseInt(raw.slice(i, i + 4), 16)
          i += 4
          if (r >= 0xd800 && r < 0xe000) {
            const lo = r < 0xdc00 && raw.charCodeAt(i) === 0x5c && raw.charCodeAt(i + 1) === 0x75
              ? parseInt(raw.slice(i + 2, i + 6), 16)
              : -1
            if (lo >= 0xdc00 && lo < 0xe000) {
              r = 0x10000 + ((r - 0xd800) << 10) + (lo - 0xdc00)
              i += 6
            } else {
              r = 0xfffd
            }
          }
          out += utf8Bytes(r)
          break
        }
        default: out += String.fromCharCode(e)
      }
      continue
    }
    if (c < 0x80) {
      out += raw[i]
      i++
      continue
    }
    const len = utf8SequenceLength(raw, i)
    if (len === 0) {
      out += replacementChar
      i++
    } else {
      out += raw.slice(i, i + len)
      i += len
    }
  }
  return out
}

function isPlainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x5c || c >= 0x80) return false
  }
  return true
}

function utf8Bytes(r: number): string {
  if (r < 0x80) return String.fromCharCode(r)
  if (r < 0x800) return String.fromCharCode(0xc0 | (r >> 6), 0x80 | (r & 0x3f))
  if (r < 0x10000) {
    return String.fromCharCode(0xe0 | (r >> 12), 0x80 | ((r >> 6) & 0x3f), 0x80 | (r & 0x3f))
  }
  return String.fromCharCode(
    0xf0 | (r >> 18),
    0x80 | ((r >> 12) & 0x3f),
    0x80 | ((r >> 6) & 0x3f),
    0x80 | (r & 0x3f),
  )
}
