/**
 * Keys and values as the text-mode wire carries them: a UTF-8 string, or `{"base64": …}` for bytes that
 * are not valid UTF-8. Inside the console they are Uint8Array; these functions convert both ways.
 */
export type WireBytes = string | { base64: string }

const encoder = new TextEncoder()
const strictDecoder = new TextDecoder('utf-8', { fatal: true })
const lenientDecoder = new TextDecoder('utf-8')

export function fromWire(w: WireBytes | undefined): Uint8Array {
  if (w === undefined) return new Uint8Array(0)
  if (typeof w === 'string') return encoder.encode(w)
  return Uint8Array.from(atob(w.base64), (c) => c.charCodeAt(0))
}

export function toWire(bytes: Uint8Array): WireBytes {
  const text = utf8(bytes)
  if (text !== undefined) return text
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return { base64: btoa(binary) }
}

export const textBytes = (s: string): Uint8Array => encoder.encode(s)

/** The bytes as text when they are valid UTF-8. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes)
  } catch {
    return undefined
  }
}

/** For display: invalid sequences become U+FFFD, control characters are shown escaped. */
export function displayText(bytes: Uint8Array): string {
  return lenientDecoder.decode(bytes).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** etcd's prefix range end: the prefix with its last byte below 0xff incremented; "\0" (every key) when there is none. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice()
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1
      return end.slice(0, i + 1)
    }
  }
  return new Uint8Array([0])
}

/** The smallest key after `key`: where a page that ended at `key` continues. */
export function keyAfter(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1)
  next.set(key)
  return next
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
  return true
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b)
}

/** `hexdump -C`-style lines: offset, 16 bytes in hex, the printable ASCII. */
export function hexDump(bytes: Uint8Array, maxBytes = 64 * 1024): string {
  const lines: string[] = []
  const n = Math.min(bytes.length, maxBytes)
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n))
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ')
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('')
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47, ' ')}  |${ascii}|`)
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`)
  return lines.join('\n')
}
