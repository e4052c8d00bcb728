/**
 * Go's base64.StdEncoding.Decode: standard alphabet, padding required, CR and LF skipped anywhere,
 * and errors reported as `illegal base64 data at input byte N` at the offset Go reports.
 */
import { Errors } from '../../errors.js'

const alphabet = new Int8Array(256).fill(-1)
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  alphabet[c.charCodeAt(0)] = i
}

const corrupt = (offset: number) => Errors.illegalBase64(offset)

const isNewline = (c: number) => c === 0x0a || c === 0x0d

/** Decodes a byte string (one char per byte) of base64 text; throws Go's error on bad input. */
export function decodeBase64(src: string): Buffer {
  const n = src.length
  if (n === 0) return Buffer.alloc(0)
  let newlines = false
  let si = 0
  // Walks quanta of four symbols exactly as Go's decodeQuantum does, to find its error offset.
  while (si < n) {
    let j = 0
    for (; j < 4; j++) {
      if (si === n) {
        if (j === 0) break
        throw corrupt(si - j)
      }
      const c = src.charCodeAt(si)
      si++
      if (c < 256 && alphabet[c] >= 0) continue
      if (isNewline(c)) {
        newlines = true
        j--
        continue
      }
      if (c !== 0x3d) throw corrupt(si - 1)
      // Padding: only after two or three symbols, "==" after two.
      if (j < 2) throw corrupt(si - 1)
      if (j === 2) {
        while (si < n && isNewline(src.charCodeAt(si))) si++
        if (si === n) throw corrupt(n)
        if (src.charCodeAt(si) !== 0x3d) throw corrupt(si - 1)
        si++
      }
      while (si < n && isNewline(src.charCodeAt(si))) si++
      if (si < n) throw corrupt(si)
      break
    }
  }
  return Buffer.from(newlines ? src.replace(/[\r\n]/g, '') : src, 'base64')
}
