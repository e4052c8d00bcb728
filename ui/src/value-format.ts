/** How a value can be shown: as text, pretty JSON, YAML or a hex dump, and what Kubernetes format it is in. */
import { stringify as toYaml } from 'yaml'
import { displayText, hexDump, utf8 } from './bytes.js'
import { decodeEncrypted, decodeProtobufEnvelope, type Encrypted, type ObjectSummary, type ProtobufObject, summarizeJsonObject } from './kubernetes.js'

export type ViewName = 'text' | 'json' | 'yaml' | 'hex'

export type KubernetesValue =
  | { format: 'protobuf'; object: ProtobufObject }
  | { format: 'json'; object: ObjectSummary }
  | { format: 'encrypted'; encrypted: Encrypted }

export interface DecodedValue {
  bytes: Uint8Array
  /** the value as text, when it is valid UTF-8 with no control characters but tab and newlines */
  text?: string
  json?: unknown
  kubernetes?: KubernetesValue
  views: ViewName[]
  best: ViewName
}

export function decodeValue(bytes: Uint8Array): DecodedValue {
  const protobuf = decodeProtobufEnvelope(bytes)
  if (protobuf) return { bytes, kubernetes: { format: 'protobuf', object: protobuf }, views: ['hex'], best: 'hex' }
  const encrypted = decodeEncrypted(bytes)
  if (encrypted) return { bytes, kubernetes: { format: 'encrypted', encrypted }, views: ['hex'], best: 'hex' }
  const decoded = utf8(bytes)
  const text = decoded !== undefined && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(decoded) ? decoded : undefined
  if (text === undefined) return { bytes, views: ['hex'], best: 'hex' }
  const json = parseJson(text)
  if (json === undefined) return { bytes, text, views: ['text', 'hex'], best: 'text' }
  const object = summarizeJsonObject(json.value)
  return {
    bytes,
    text,
    json: json.value,
    ...(object ? { kubernetes: { format: 'json', object } } : {}),
    views: ['json', 'yaml', 'text', 'hex'],
    best: 'json',
  }
}

/** Only objects and arrays count as JSON here: `42` or `"x"` reads better as text. */
function parseJson(text: string): { value: unknown } | undefined {
  const t = text.trim()
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined
  try {
    return { value: JSON.parse(t) }
  } catch {
    return undefined
  }
}

export function render(value: DecodedValue, view: ViewName): string {
  switch (view) {
    case 'json':
      return JSON.stringify(value.json, null, 2)
    case 'yaml':
      return toYaml(value.json)
    case 'text':
      return value.text ?? displayText(value.bytes)
    case 'hex':
      return hexDump(value.bytes)
  }
}

export const viewLabels: Record<ViewName, string> = { text: 'Text', json: 'JSON', yaml: 'YAML', hex: 'Hex' }
