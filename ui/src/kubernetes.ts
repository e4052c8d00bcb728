/**
 * Kubernetes' storage formats in etcd: the protobuf envelope (the magic `k8s\0`, then a runtime.Unknown
 * message), encryption at rest (`k8s:enc:<provider>:v1:<key name>:`), and JSON for custom resources.
 */
import { startsWith, textBytes } from './bytes.js'

export interface ObjectSummary {
  apiVersion: string
  kind: string
  name?: string
  namespace?: string
}

export interface ProtobufObject extends ObjectSummary {
  contentType?: string
  /** the object's own protobuf bytes (runtime.Unknown's raw) */
  raw: Uint8Array
}

export interface Encrypted {
  provider: string
  keyName?: string
}

const protobufMagic = new Uint8Array([0x6b, 0x38, 0x73, 0x00])
const encryptedMagic = textBytes('k8s:enc:')

/** A field of a protobuf message: varints as numbers, length-delimited fields as their bytes. */
type Field = { number: number; varint?: number; bytes?: Uint8Array }

function* fields(buf: Uint8Array): Generator<Field> {
  let at = 0
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint')
      const b = buf[at++]!
      value += (b & 0x7f) * scale
      if (b < 0x80) return value
      scale *= 128
      if (scale > 2 ** 63) throw new Error('varint too long')
    }
  }
  while (at < buf.length) {
    const tag = varint()
    const number = Math.floor(tag / 8)
    switch (tag & 7) {
      case 0:
        yield { number, varint: varint() }
        break
      case 1:
        at += 8
        break
      case 2: {
        const len = varint()
        if (at + len > buf.length) throw new Error('truncated field')
        yield { number, bytes: buf.subarray(at, at + len) }
        at += len
        break
      }
      case 5:
        at += 4
        break
      default:
        throw new Error(`wire type ${tag & 7} is not valid here`)
    }
    if (at > buf.length) throw new Error('truncated message')
  }
}

const decoder = new TextDecoder()

/** The string fields of a message, by field number (the last occurrence wins, as protobuf merges). */
function strings(buf: Uint8Array): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>()
  for (const f of fields(buf)) if (f.bytes) out.set(f.number, f.bytes)
  return out
}

/** The protobuf envelope, or undefined when the value is not one (or does not decode as one). */
export function decodeProtobufEnvelope(value: Uint8Array): ProtobufObject | undefined {
  if (!startsWith(value, protobufMagic)) return undefined
  try {
    const unknown = strings(value.subarray(protobufMagic.length))
    const typeMeta = strings(unknown.get(1) ?? new Uint8Array(0))
    const raw = unknown.get(2) ?? new Uint8Array(0)
    // Every Kubernetes object holds its ObjectMeta in field 1 (metadata): name is 1, namespace 3.
    const meta = strings(strings(raw).get(1) ?? new Uint8Array(0))
    const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : decoder.decode(b))
    const contentType = text(unknown.get(4))
    return {
      apiVersion: text(typeMeta.get(1)) ?? '',
      kind: text(typeMeta.get(2)) ?? '',
      ...(meta.has(1) ? { name: text(meta.get(1)) } : {}),
      ...(meta.has(3) ? { namespace: text(meta.get(3)) } : {}),
      ...(contentType ? { contentType } : {}),
      raw,
    }
  } catch {
    return undefined
  }
}

export function decodeEncrypted(value: Uint8Array): Encrypted | undefined {
  if (!startsWith(value, encryptedMagic)) return undefined
  // k8s:enc:<provider>:v1:<key name>:<ciphertext>; the ciphertext is binary, so only the ASCII head is read.
  const head = decoder.decode(value.subarray(0, Math.min(value.length, 256)))
  const parts = head.slice('k8s:enc:'.length).split(':')
  return { provider: parts[0] ?? '', ...(parts.length > 3 ? { keyName: parts[2] } : {}) }
}

/** apiVersion, kind and metadata of a JSON-stored object, when the JSON is one. */
export function summarizeJsonObject(json: unknown): ObjectSummary | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined
  const o = json as Record<string, unknown>
  if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') return undefined
  const meta = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    ...(typeof meta.name === 'string' ? { name: meta.name } : {}),
    ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
  }
}
