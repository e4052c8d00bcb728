/**
 * Request decoders compiled from the message types: JSON (read by json.ts) → etcdgw's internal request,
 * with the size the message would have in protobuf (etcd's request limits count those bytes).
 *
 * Each message becomes one generated function that reads its fields in declaration order (so among
 * several bad fields the one etcd names is reported) and builds the request as one object literal, so
 * every request of a type has the same shape. Reading follows jsonpb under grpc-gateway v1 (fields.ts).
 */
import { Errors } from '../../errors.js'
import { varintSize } from '../../proto-size.js'
import { MAX_MESSAGE_DEPTH } from '../../proto/wire.js'
import type { FieldType, MessageType, OneofType } from '../api/message-types.js'
import { JsonObject, type JsonValue, kindOf } from './json.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import * as read from './fields.js'
import { MessageFunctions } from './message-functions.js'

export interface Decoded<T> {
  request: T
  /** Size of the request as a protobuf message. */
  size: number
}

export type Decoder<T> = (v: JsonValue | undefined, codec?: BytesCodec) => Decoded<T>

type MessageDecoder = (o: JsonObject, codec: BytesCodec, depth: number) => Decoded<unknown>

/** A request nested deeper than the decoder goes; the RPC answers it as etcd's txn check does. */
export class NestingTooDeep extends Error {
  constructor() {
    super(`messages nested more than ${MAX_MESSAGE_DEPTH} deep`)
  }
}

const emptyObject = new JsonObject()

/** The top-level body: Go's Decoder yields nothing (empty body) or null for an empty request. */
export function body(v: JsonValue | undefined): JsonObject {
  if (v === undefined || v === null) return emptyObject
  if (v instanceof JsonObject) return v
  throw Errors.jsonTypeMismatch(kindOf(v), 'map[string]json.RawMessage')
}

/** What the generated code calls. */
const helpers = {
  ...read,
  emptyObject,
  varintSize,
  /** A varint field, omitted when zero. */
  varintField: (tag: number, n: number | bigint) => (n === 0 || n === 0n ? 0 : tag + varintSize(n)),
  /** A length-delimited field, omitted when empty. */
  lenField: (tag: number, len: number) => (len === 0 ? 0 : tag + varintSize(len) + len),
  /** A length-delimited field always written (a present message, a repeated element, a oneof member). */
  lenAlways: (tag: number, len: number) => tag + varintSize(len) + len,
  uint64Number: (v: JsonValue | undefined) => Number(read.uint64Big(v)),
  byteLength: (s: string) => Buffer.byteLength(s),
  NestingTooDeep,
}

const tagSize = (f: FieldType) => varintSize(f.number << 3)

class DecoderFunctions extends MessageFunctions {
  constructor() {
    super('d', helpers)
  }

  private raw(f: FieldType): string {
    return f.name === f.jsonName ? `o.get(${JSON.stringify(f.name)})` : `h.field(o, ${JSON.stringify(f.name)}, ${JSON.stringify(f.jsonName)})`
  }

  /** An expression reading one value (a singular field, or an element of a repeated one) from `v`. */
  private value(f: FieldType, v: string): string {
    switch (f.kind) {
      case 'bytes':
        return f.binary ? `h.bytes(${v})` : `codec.read(${v})`
      case 'string':
        return `h.string(${v})`
      case 'bool':
        return `h.bool(${v})`
      case 'int64':
        return f.bigint ? `h.int64Big(${v})` : `h.int64(${v})`
      case 'uint64':
        return f.bigint ? `h.uint64Big(${v})` : `h.uint64Number(${v})`
      case 'enum':
        return `h.enumValue(${v}, ${JSON.stringify(f.enumType!.goName)}, ${this.constant(f.enumType!.values)})`
      case 'message':
        return `${this.functionOf(f.messageType!)}(h.message(${v}) ?? h.emptyObject, codec, depth + 1)`
      default:
        throw new Error(`no request decoding for ${f.kind} fields (${f.name})`)
    }
  }

  /** Size of a value held in `v` without its tag: its varint, or its length prefix and bytes. */
  private bareSize(f: FieldType, v: string): string {
    switch (f.kind) {
      case 'bytes':
        return `h.varintSize(${v}.length) + ${v}.length`
      case 'string':
        return `h.varintSize(h.byteLength(${v})) + h.byteLength(${v})`
      case 'bool':
        return '1'
      default:
        return `h.varintSize(${v})`
    }
  }

  protected messageFunction(type: MessageType): string {
    const union = type.fields[0]?.oneof?.union ? type.fields[0].oneof : undefined
    const body = union ? this.unionBody(type, union) : this.structBody(type)
    const guard = `if (depth > ${MAX_MESSAGE_DEPTH}) throw new h.NestingTooDeep()`
    return `function ${this.functionOf(type.name)}(o, codec, depth) {\n${guard}\n${body.join('\n')}\n}`
  }

  /**
   * A message that is one oneof held as `{ kind, payload }`. Every member given is decoded (a bad one
   * fails, whatever Go's map order); the first non-null one is the request.
   */
  private unionBody(type: MessageType, oneof: OneofType): string[] {
    if (type.fields.length !== oneof.members.length) throw new Error(`${type.name}: a union oneof must be the message's only fields`)
    const reads: string[] = []
    const returns: string[] = []
    for (const m of oneof.members) {
      const v = `f${m.number}`
      const kind = oneof.union!.kinds[m.name]
      if (!kind) throw new Error(`${type.name}.${m.name}: no kind in the union note`)
      reads.push(`const ${v}m = h.message(${this.raw(m)})`)
      reads.push(`const ${v} = ${v}m === undefined ? undefined : ${this.functionOf(m.messageType!)}(${v}m, codec, depth + 1)`)
      const request = `{ kind: ${JSON.stringify(kind)}, ${oneof.union!.payload}: ${v}.request }`
      returns.push(`if (${v} !== undefined) return { request: ${request}, size: h.lenAlways(${tagSize(m)}, ${v}.size) }`)
    }
    return [...reads, ...returns, "return { request: { kind: 'none' }, size: 0 }"]
  }

  /** A message of plain fields (and flat oneofs): each read in declaration order, then one object literal. */
  private structBody(type: MessageType): string[] {
    const lines: string[] = []
    const props: string[] = []
    const sizes: string[] = []
    for (const f of type.fields) {
      const v = `f${f.number}`
      props.push(`${f.property}: ${v}`)
      if (type.keyRange && f.name === 'key') {
        lines.push('const kr = codec.keyRange(o)', `const ${v} = kr.key`)
      } else if (type.keyRange && f.name === 'range_end') {
        lines.push(`const ${v} = kr.rangeEnd`)
      } else if (f.repeated) {
        sizes.push(this.readRepeated(f, v, lines))
        continue
      } else if (f.kind === 'message') {
        lines.push(`const ${v}m = h.message(${this.raw(f)})`)
        lines.push(`const ${v}d = ${v}m === undefined ? undefined : ${this.functionOf(f.messageType!)}(${v}m, codec, depth + 1)`)
        lines.push(`const ${v} = ${v}d?.request`)
        sizes.push(`(${v}d === undefined ? 0 : h.lenAlways(${tagSize(f)}, ${v}d.size))`)
        continue
      } else if (f.oneof?.selectedBy) {
        // the raw value is kept: a member counts as given even when null or zero
        lines.push(`const ${v}g = ${this.raw(f)}`, `const ${v} = ${this.value(f, `${v}g`)}`)
        if (f.oneof.members[0] === f) sizes.push(`s_${f.oneof.name}`)
        continue
      } else {
        lines.push(`const ${v} = ${this.value(f, this.raw(f))}`)
      }
      sizes.push(this.singularSize(f, v, tagSize(f)))
    }
    lines.push(...this.selectedOneofSizes(type))
    lines.push(`return { request: { ${props.join(', ')} }, size: ${sizes.length > 0 ? sizes.join(' + ') : '0'} }`)
    return lines
  }

  /** Reads a repeated field into `v`; returns the expression of its size. */
  private readRepeated(f: FieldType, v: string, lines: string[]): string {
    const tag = tagSize(f)
    lines.push(`const ${v}r = h.repeated(${this.raw(f)})`, `const ${v} = new Array(${v}r.length)`, `let ${v}s = 0`)
    lines.push(`for (let i = 0; i < ${v}r.length; i++) {`)
    if (f.kind === 'message') {
      lines.push(`  const ${v}d = ${this.value(f, `${v}r[i]`)}`, `  ${v}[i] = ${v}d.request`, `  ${v}s += h.lenAlways(${tag}, ${v}d.size)`)
    } else {
      lines.push(`  ${v}[i] = ${this.value(f, `${v}r[i]`)}`)
      // strings and bytes are one field each; numbers and enums are packed into one length-delimited field
      const element = this.bareSize(f, `${v}[i]`)
      lines.push(`  ${v}s += ${f.kind === 'bytes' || f.kind === 'string' ? `${tag} + ${element}` : element}`)
    }
    lines.push('}')
    const packed = f.kind !== 'bytes' && f.kind !== 'string' && f.kind !== 'message'
    return packed ? `h.lenField(${tag}, ${v}s)` : `${v}s`
  }

  private singularSize(f: FieldType, v: string, tag: number): string {
    switch (f.kind) {
      case 'bytes':
        return `h.lenField(${tag}, ${v}.length)`
      case 'string':
        return `h.lenField(${tag}, h.byteLength(${v}))`
      case 'bool':
        return `(${v} ? ${tag + 1} : 0)`
      default:
        return `h.varintField(${tag}, ${v})`
    }
  }

  /**
   * A flat oneof: a member counts once given (even as null or zero). Of several given, the one the
   * selector names counts (what etcd keeps when only that one is given), else the largest.
   */
  private selectedOneofSizes(type: MessageType): string[] {
    const lines: string[] = []
    for (const f of type.fields) {
      const oneof = f.oneof
      if (!oneof?.selectedBy || oneof.members[0] !== f) continue
      if (oneof.members.some((m) => m.kind === 'message')) throw new Error(`${type.name}.${oneof.name}: a flat oneof holds scalars only`)
      const selector = type.fields.find((s) => s.name === oneof.selectedBy)
      if (selector?.kind !== 'enum') throw new Error(`${type.name}.${oneof.name}: selector ${oneof.selectedBy} is not an enum field`)
      const members = oneof.members.map((m) => `(f${m.number}g === undefined ? -1 : ${tagSize(m)} + ${this.bareSize(m, `f${m.number}`)})`)
      lines.push(`const m_${oneof.name} = [${members.join(', ')}]`)
      lines.push(`const p_${oneof.name} = m_${oneof.name}[f${selector.number}] ?? -1`)
      lines.push(`const s_${oneof.name} = p_${oneof.name} >= 0 ? p_${oneof.name} : Math.max(0, ...m_${oneof.name})`)
    }
    return lines
  }
}

/** Decoders for these request messages (and, inside, every message they contain). */
export function compileDecoders(names: string[]): Record<string, Decoder<unknown>> {
  const compiled = new DecoderFunctions().compile(names) as unknown as Record<string, MessageDecoder>
  const out: Record<string, Decoder<unknown>> = {}
  for (const name of names) {
    const decode = compiled[name]!
    out[name] = (v, codec = base64Codec) => decode(body(v), codec, 0)
  }
  return out
}
