/**
 * Go's ways of printing text that appear in etcd's error bodies: the scanner's quoted character,
 * fmt's %q, and encoding/json's string escaping (Go 1.19, the toolchain of etcd 3.4.23).
 */
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u

/** strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f
  return printable.test(String.fromCodePoint(r))
}

/** The body of strconv.Quote for one rune, without the surrounding quotes. */
function quoteRune(r: number, quote: number): string {
  if (r === quote || r === 0x5c) return '\\' + String.fromCharCode(r)
  if (isPrint(r)) return String.fromCodePoint(r)
  switch (r) {
    case 0x07: return '\\a'
    case 0x08: return '\\b'
    case 0x0c: return '\\f'
    case 0x0a: return '\\n'
    case 0x0d: return '\\r'
    case 0x09: return '\\t'
    case 0x0b: return '\\v'
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + r.toString(16).padStart(2, '0')
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0')
  return '\\U' + r.toString(16).padStart(8, '0')
}

/** encoding/json's quoteChar: how the scanner names an offending byte (read as a rune, like Go). */
export function quoteChar(byte: number): string {
  if (byte === 0x27) return "'\\''"
  if (byte === 0x22) return `'"'`
  return "'" + quoteRune(byte, 0x22) + "'"
}

/** fmt's %q of a byte string (invalid UTF-8 bytes as \x escapes), as a JS string. */
export function goQuote(bytes: string): string {
  let out = '"'
  let i = 0
  while (i < bytes.length) {
    const b = bytes.charCodeAt(i)
    if (b < 0x80) {
      out += quoteRune(b, 0x22)
      i++
      continue
    }
    const len = utf8SequenceLength(bytes, i)
    if (len === 0) {
      out += '\\x' + b.toString(16).padStart(2, '0')
      i++
      continue
    }
    out += quoteRune(Buffer.from(bytes.slice(i, i + len), 'latin1').toString('utf8').codePointAt(0)!, 0x22)
    i += len
  }
  return out + '"'
}

const plainJson = /^[\x20-\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/

/** encoding/json's string encoding with HTML escaping, as grpc-gateway writes error messages. */
export function goJsonString(s: string): string {
  if (plainJson.test(s)) return '"' + s + '"'
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    switch (c) {
      case 0x22: out += '\\"'; continue
      case 0x5c: out += '\\\\'; continue
      case 0x0a: out += '\\n'; continue
      case 0x0d: out += '\\r'; continue
      case 0x09: out += '\\t'; continue
    }
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += '\\u' + c.toString(16).padStart(4, '0')
    } else if (c >= 0xd800 && c < 0xe000) {
      const next = s.charCodeAt(i + 1)
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        out += s[i] + s[i + 1]
        i++
      } else {
        out += '\\ufffd'
      }
    } else {
      out += s[i]
    }
  }
  return out + '"'
}

/** The length of the valid UTF-8 sequence starting at `i` of a byte string, or 0 when invalid. */
export function utf8SequenceLength(s: string, i: number): number {
  const b0 = s.charCodeAt(i)
  const cont = (k: number) => {
    const b = s.charCodeAt(i + k)
    return b >= 0x80 && b <= 0xbf
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = s.charCodeAt(i + 1)
    const lo = b0 === 0xe0 ? 0xa0 : 0x80
    const hi = b0 === 0xed ? 0x9f : 0xbf
    return b1 >= lo && b1 <= hi && cont(2) ? 3 : 0
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = s.charCodeAt(i + 1)
    const lo = b0 === 0xf0 ? 0x90 : 0x80
    const hi = b0 === 0xf4 ? 0x8f : 0xbf
    return b1 >= lo && b1 <= hi && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}
