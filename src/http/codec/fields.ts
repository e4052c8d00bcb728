/**
 * Reading one field of a request message the way golang/protobuf's jsonpb (under grpc-gateway v1)
 * does, with its error messages. A field is looked up under its lowerCamel JSON name first, then its
 * proto name (jsonpb prefers the camel name when both are present); null means "not set".
 */
import { Errors } from '../../errors.js'
import { decodeBase64 } from './base64.js'
import { goQuote } from './go-text.js'
import { JsonNumber, JsonObject, type JsonValue, kindOf, parseWhole, unquote } from './json.js'

const typeError = Errors.jsonTypeMismatch

/** The field's value, or undefined when absent. */
export function field(obj: JsonObject, protoName: string, camelName: string): JsonValue | undefined {
  if (protoName === camelName) return obj.get(protoName)
  const camel = obj.get(camelName)
  return camel !== undefined ? camel : obj.get(protoName)
}

/** A message value: undefined (absent or null) or its object. */
export function message(v: JsonValue | undefined): JsonObject | undefined {
  if (v === undefined || v === null) return undefined
  if (v instanceof JsonObject) return v
  throw typeError(kindOf(v), 'map[string]json.RawMessage')
}

/** A repeated field's elements (empty when absent or null). */
export function repeated(v: JsonValue | undefined): JsonValue[] {
  if (v === undefined || v === null) return []
  if (Array.isArray(v)) return v
  throw typeError(kindOf(v), '[]json.RawMessage')
}

export function bool(v: JsonValue | undefined): boolean {
  if (v === undefined || v === null) return false
  if (typeof v === 'boolean') return v
  throw typeError(kindOf(v), 'bool')
}

const maxInt64 = 9223372036854775807n
const minInt64 = -9223372036854775808n
const maxUint64 = 18446744073709551615n

/**
 * An int64 field's literal text, or undefined when not set. jsonpb strips the quotes of a string
 * and reads what is left as JSON, so `" 5"` works and `"1.5"`, `"x"` fail as Go's parser does.
 */
function int64Literal(v: JsonValue | undefined, goType = 'int64', min = minInt64, max = maxInt64): string | undefined {
  if (v === undefined || v === null) return undefined
  let literal: string
  if (v instanceof JsonNumber) {
    literal = v.text
  } else if (typeof v === 'string') {
    if (isCanonicalInteger(v)) {
      literal = v
    } else {
      const inner = parseWhole(v)
      if (inner === null) return undefined
      if (!(inner instanceof JsonNumber)) throw typeError(kindOf(inner), goType)
      literal = inner.text
    }
  } else {
    throw typeError(kindOf(v), goType)
  }
  if (!isInteger(literal)) throw typeError(`number ${literal}`, goType)
  const negative = literal.charCodeAt(0) === 0x2d
  const digits = negative ? literal.length - 1 : literal.length
  if (digits > 18 || (negative && min === 0n)) {
    const n = BigInt(literal)
    if (n > max || n < min) throw typeError(`number ${literal}`, goType)
  }
  return literal
}

/** An int64 field as a number (revisions, limits: beyond 2^53 only their magnitude matters). */
export function int64(v: JsonValue | undefined): number {
  const literal = int64Literal(v)
  return literal === undefined ? 0 : Number(literal)
}

/** An int64 field with every bit kept (lease IDs). */
export function int64Big(v: JsonValue | undefined): bigint {
  const literal = int64Literal(v)
  return literal === undefined ? 0n : BigInt(literal)
}

/** A uint64 field (member IDs use all 64 bits). */
export function uint64Big(v: JsonValue | undefined): bigint {
  const literal = int64Literal(v, 'uint64', 0n, maxUint64)
  return literal === undefined ? 0n : BigInt(literal)
}

/** A string field. */
export function string(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return ''
  // the body was read as bytes (latin1): the string's UTF-8 is decoded here
  if (typeof v === 'string') return Buffer.from(unquote(v), 'latin1').toString('utf8')
  throw typeError(kindOf(v), 'string')
}

/** An enum field: its exact name (not unescaped, as jsonpb compares raw text) or any int32. */
export function enumValue(v: JsonValue | undefined, goType: string, names: ReadonlyMap<string, number>): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string') {
    const n = names.get(v)
    if (n === undefined) throw Errors.jsonUnknownEnumValue(goQuote(v), goType)
    return n
  }
  if (v instanceof JsonNumber) {
    const n = isInteger(v.text) && v.text.length <= 11 ? Number(v.text) : NaN
    if (!(n >= -2147483648 && n <= 2147483647)) throw typeError(`number ${v.text}`, goType)
    return n
  }
  throw typeError(kindOf(v), goType)
}

const empty = Buffer.alloc(0)

/** A bytes field: standard base64 in a string, or (as encoding/json allows) an array of byte values. */
export function bytes(v: JsonValue | undefined): Buffer {
  if (v === undefined || v === null) return empty
  if (typeof v === 'string') return decodeBase64(unquote(v))
  if (Array.isArray(v)) return Buffer.from(v.map(byteValue))
  throw typeError(kindOf(v), '[]uint8')
}

function byteValue(v: JsonValue): number {
  if (v === null) return 0
  if (!(v instanceof JsonNumber)) throw typeError(kindOf(v), 'uint8')
  const n = /^\d{1,3}$/.test(v.text) ? Number(v.text) : 256
  if (n > 255) throw typeError(`number ${v.text}`, 'uint8')
  return n
}

function isInteger(literal: string): boolean {
  for (let i = 0; i < literal.length; i++) {
    const c = literal.charCodeAt(i)
    if (c === 0x2e || c === 0x65 || c === 0x45) return false
  }
  return true
}

/** Digits a JSON parser would read as one integer: an optional '-', no leading zero, no spaces. */
function isCanonicalInteger(s: string): boolean {
  const start = s.charCodeAt(0) === 0x2d ? 1 : 0
  const n = s.length - start
  if (n === 0 || n > 18 || (n > 1 && s.charCodeAt(start) === 0x30)) return false
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}
