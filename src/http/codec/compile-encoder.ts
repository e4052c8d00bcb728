/**
 * Response encoders compiled from the message types: etcdgw's internal responses → compact JSON text
 * exactly as etcd's gateway writes it (jsonpb with OrigName, EmitDefaults off): proto names in
 * declaration order, 64-bit integers as strings, bytes as padded standard base64 (or text, by the
 * request's BytesCodec), enums by name, zero values and empty lists left out, present messages always
 * written (an all-zero header is `{}`, as in a nested txn response).
 */
import type { FieldType, MessageType } from '../api/message-types.js'
import { goJsonString } from './go-text.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { MessageFunctions } from './message-functions.js'

export type Encoder<T> = (r: T, codec?: BytesCodec) => string

type MessageEncoder = (r: unknown, codec: BytesCodec) => string

/** The last 64-bit ID a field wrote, and its text (cluster and member IDs repeat in every header). */
interface IdText {
  id: bigint
  text: string
}

/** What the generated code calls. */
const helpers = {
  goJsonString,
  idText: (last: IdText, id: bigint, unsigned: boolean) => {
    if (id !== last.id) {
      last.id = id
      last.text = `"${unsigned ? BigInt.asUintN(64, id) : BigInt.asIntN(64, id)}"`
    }
    return last.text
  },
  /** An enum by name; a value the enum does not name as its number, as jsonpb does. */
  enumName: (names: ReadonlyMap<number, string>, v: number) => {
    const name = names.get(v)
    return name === undefined ? String(v) : `"${name}"`
  },
}

class EncoderFunctions extends MessageFunctions {
  constructor() {
    super('e', helpers)
  }

  /** JSON text of one value (a singular field, or an element of a repeated one) held in `v`. */
  private value(f: FieldType, v: string): string {
    switch (f.kind) {
      case 'bytes':
        return f.binary ? `'"' + ${v}.toString('base64') + '"'` : `codec.write(${v})`
      case 'string':
        return `h.goJsonString(${v})`
      case 'bool':
        return `(${v} ? 'true' : 'false')`
      case 'int64':
      case 'uint64':
        if (!f.bigint) return `'"' + ${v} + '"'`
        return `h.idText(${this.constant({ id: 0n, text: '' })}, ${v}, ${f.kind === 'uint64'})`
      case 'int32':
        return `('' + (${v} | 0))`
      case 'uint32':
        return `('' + (${v} >>> 0))`
      case 'enum':
        return `h.enumName(${this.constant(f.enumType!.names)}, ${v})`
      case 'message':
        return `${this.functionOf(f.messageType!)}(${v}, codec)`
    }
  }

  /** The condition under which jsonpb writes the field. */
  private present(f: FieldType, v: string): string {
    if (f.repeated || f.kind === 'bytes') return `${v} !== undefined && ${v}.length !== 0`
    if (f.kind === 'message') return `${v} !== undefined`
    return v
  }

  protected messageFunction(type: MessageType): string {
    const lines = ["let s = '{'", "let c = ''"]
    const unionsDone = new Set<string>()
    for (const f of type.fields) {
      const union = f.oneof?.union
      if (union) {
        if (unionsDone.has(f.oneof!.name)) continue
        unionsDone.add(f.oneof!.name)
        lines.push('switch (r.kind) {')
        for (const m of f.oneof!.members) {
          const write = `s += c + '"${m.name}":' + ${this.value(m, `r.${union.payload}`)}; c = ','; break`
          lines.push(`  case ${JSON.stringify(union.kinds[m.name])}: ${write}`)
        }
        lines.push('}')
        continue
      }
      const v = `f${f.number}`
      lines.push(`const ${v} = r.${f.property}`)
      lines.push(`if (${this.present(f, v)}) {`)
      if (f.repeated) {
        lines.push(`  s += c + '"${f.name}":['`)
        lines.push(`  for (let i = 0; i < ${v}.length; i++) s += (i === 0 ? '' : ',') + ${this.value(f, `${v}[i]`)}`)
        lines.push(`  s += ']'`)
      } else {
        lines.push(`  s += c + '"${f.name}":' + ${this.value(f, v)}`)
      }
      lines.push(`  c = ','`, '}')
    }
    lines.push("return s + '}'")
    return `function ${this.functionOf(type.name)}(r, codec) {\n${lines.join('\n')}\n}`
  }
}

/** Encoders for these response messages (and, inside, every message they contain). */
export function compileEncoders(names: string[]): Record<string, Encoder<unknown>> {
  const compiled = new EncoderFunctions().compile(names) as Record<string, MessageEncoder>
  const out: Record<string, Encoder<unknown>> = {}
  for (const name of names) {
    const encode = compiled[name]!
    out[name] = (r, codec = base64Codec) => encode(r, codec)
  }
  return out
}
