/** JSON Schema (OpenAPI 3.1's dialect) of the messages, made from their one description. */
import { type FieldType, messageType } from './message-types.js'
import { httpSchemas, type Schema } from './messages.js'

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })

/** 64-bit integers are written as strings; requests accept strings or numbers. */
const int64: Schema = { type: ['string', 'integer'], pattern: '^-?[0-9]+$', description: '64-bit integer (written as a string)' }

/** Enums are written by name; requests accept names or numbers. */
function enumSchema(field: FieldType): Schema {
  const names = [...field.enumType!.values.keys()]
  return { type: ['string', 'integer'], enum: [...names, ...field.enumType!.values.values()] }
}

function valueSchema(field: FieldType): Schema {
  switch (field.kind) {
    case 'bytes':
      return field.binary ? { type: 'string', contentEncoding: 'base64' } : ref('Bytes')
    case 'string':
      return { type: 'string' }
    case 'bool':
      return { type: 'boolean' }
    case 'int64':
    case 'uint64':
      return int64
    case 'int32':
    case 'uint32':
      return { type: 'integer' }
    case 'enum':
      return enumSchema(field)
    case 'message':
      return ref(field.messageType!)
  }
}

const prefixProperty: Schema = {
  type: 'boolean',
  description: 'text mode only (?encoding=utf8): range_end is the prefix end of key (with an empty key: every key)',
}

function messageSchema(name: string): Schema {
  const type = messageType(name)
  const properties: Record<string, Schema> = {}
  for (const f of type.fields) {
    properties[f.name] = f.repeated ? { type: 'array', items: valueSchema(f) } : valueSchema(f)
    if (f.name === 'range_end' && type.keyRange) properties.prefix = prefixProperty
  }
  return { type: 'object', ...(type.description ? { description: type.description } : {}), properties }
}

/** The schemas of these messages and of every message they contain, and the HTTP API's own. */
export function schemasOf(roots: Iterable<string>): Record<string, Schema> {
  const found = new Map<string, Schema>()
  const visit = (name: string) => {
    if (found.has(name) || name in httpSchemas) return
    found.set(name, messageSchema(name))
    for (const f of messageType(name).fields) if (f.messageType) visit(f.messageType)
  }
  for (const name of roots) visit(name)
  const sorted = [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return { ...httpSchemas, ...Object.fromEntries(sorted) }
}
