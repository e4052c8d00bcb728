/**
 * The one description of every message of the JSON API: the .proto's fields joined with etcdgw's notes
 * (messages.ts). The codec compiles its decoders and encoders from it and the OpenAPI document is
 * generated from it.
 */
import protobuf from 'protobufjs'
import { wireRoot } from '../../proto/wire.js'
import { bigintFields, notes, type UnionNote } from './messages.js'

export type ScalarKind = 'bytes' | 'string' | 'bool' | 'int64' | 'uint64' | 'int32' | 'uint32'

export interface EnumType {
  /** Go's name of the enum type, as jsonpb's errors spell it (etcdserverpb.RangeRequest_SortOrder). */
  goName: string
  values: ReadonlyMap<string, number>
  names: ReadonlyMap<number, string>
}

export interface FieldType {
  /** The proto name: jsonpb (OrigName) writes it; requests may also use `jsonName`. */
  name: string
  /** protoc's lowerCamel JSON name. */
  jsonName: string
  /** The property of etcdgw's internal type (backend.ts): the JSON name with acronyms lower-cased. */
  property: string
  number: number
  kind: ScalarKind | 'enum' | 'message'
  repeated: boolean
  /** An int64 or uint64 held as bigint. */
  bigint: boolean
  /** A bytes field that stays base64 in text mode. */
  binary: boolean
  enumType?: EnumType
  /** The message type's name, for kind 'message'. */
  messageType?: string
  oneof?: OneofType
}

export interface OneofType {
  name: string
  members: FieldType[]
  /** Held as `{ kind, [payload]: member }`. */
  union?: UnionNote
  /** Held flat; the enum field of this name picks the member that counts. */
  selectedBy?: string
}

export interface MessageType {
  name: string
  description?: string
  /** In declaration order (Go's struct order, which jsonpb writes in); oneof members in their place. */
  fields: FieldType[]
  keyRange: boolean
}

/** `grantedTTL` → `grantedTtl`, `ID` → `id`, `peerURLs` → `peerUrls`. */
function propertyName(jsonName: string): string {
  return jsonName.replace(/[A-Z]+/g, (run, at: number) => (at === 0 ? run.toLowerCase() : run[0] + run.slice(1).toLowerCase()))
}

/** protoc's JSON name: `range_end` → `rangeEnd`. */
const jsonNameOf = (name: string) => name.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase())

const scalarKinds: Record<string, ScalarKind> = {
  bytes: 'bytes',
  string: 'string',
  bool: 'bool',
  int64: 'int64',
  uint64: 'uint64',
  int32: 'int32',
  uint32: 'uint32',
}

function enumType(e: protobuf.Enum): EnumType {
  // '.etcdserverpb.RangeRequest.SortOrder' → 'etcdserverpb.RangeRequest_SortOrder'
  const [pkg, ...path] = e.fullName.slice(1).split('.')
  const values = new Map(Object.entries(e.values))
  return { goName: `${pkg}.${path.join('_')}`, values, names: new Map([...values].map(([k, v]) => [v, k])) }
}

const types = new Map<string, MessageType>()

/** The message type of this name (short names are unique across etcd's packages). */
export function messageType(name: string): MessageType {
  let type = types.get(name)
  if (!type) {
    type = buildType(name)
    types.set(name, type)
  }
  return type
}

function lookup(name: string): protobuf.Type {
  const root = wireRoot()
  for (const pkg of ['etcdserverpb', 'mvccpb', 'authpb']) {
    const found = root.lookup(`${pkg}.${name}`)
    if (found instanceof protobuf.Type) return found
  }
  throw new Error(`no message ${name} in the .proto files`)
}

function buildType(name: string): MessageType {
  const proto = lookup(name)
  const note = notes[name] ?? {}
  const oneofs = new Map<string, OneofType>()
  for (const o of proto.oneofsArray) {
    const union = note.unions?.[o.name]
    const selectedBy = note.selectedBy?.[o.name]
    if (!union && !selectedBy) throw new Error(`${name}.${o.name}: a oneof needs a note (unions or selectedBy) in messages.ts`)
    oneofs.set(o.name, { name: o.name, members: [], union, selectedBy })
  }
  const fields = proto.fieldsArray.map((f): FieldType => {
    const jsonName = jsonNameOf(f.name)
    const resolved = f.resolvedType
    const kind = resolved instanceof protobuf.Enum ? 'enum' : resolved ? 'message' : scalarKinds[f.type]
    if (!kind) throw new Error(`${name}.${f.name}: no JSON mapping for proto type ${f.type}`)
    const field: FieldType = {
      name: f.name,
      jsonName,
      property: propertyName(jsonName),
      number: f.id,
      kind,
      repeated: f.repeated,
      bigint: (kind === 'int64' || kind === 'uint64') && bigintFields.has(f.name),
      binary: note.binary?.includes(f.name) ?? false,
      enumType: resolved instanceof protobuf.Enum ? enumType(resolved) : undefined,
      messageType: resolved instanceof protobuf.Type ? resolved.name : undefined,
    }
    if (f.partOf) {
      field.oneof = oneofs.get(f.partOf.name)!
      field.oneof.members.push(field)
    }
    return field
  })
  return { name, description: note.description, fields, keyRange: note.keyRange ?? false }
}
