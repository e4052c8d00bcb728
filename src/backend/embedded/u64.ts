/**
 * Unsigned 64-bit big-endian fields holding JS numbers (revisions and versions stay below 2^53), written
 * byte by byte: a snapshot writes two per row of the store, where Buffer's writeUInt32BE costs several
 * times as much. A field past the end throws as Buffer's writers do.
 */
export function writeU64(b: Uint8Array, at: number, n: number): void {
  if (!(at >= 0 && at + 8 <= b.length)) throw new RangeError(`a u64 at ${at} runs past the end of ${b.length} bytes`)
  const high = Math.floor(n / 0x1_0000_0000)
  const low = n >>> 0
  // a Uint8Array keeps the low eight bits of what is stored
  b[at] = high >>> 24
  b[at + 1] = high >>> 16
  b[at + 2] = high >>> 8
  b[at + 3] = high
  b[at + 4] = low >>> 24
  b[at + 5] = low >>> 16
  b[at + 6] = low >>> 8
  b[at + 7] = low
}

/**
 * Read from the bytes themselves: a snapshot reads three or four per row of the store, and Buffer's
 * readUInt32BE costs several times as much. A field past the end throws as Buffer's readers do.
 */
export function readU64(b: Uint8Array, at: number): number {
  if (!(at >= 0 && at + 8 <= b.length)) throw new RangeError(`a u64 at ${at} runs past the end of ${b.length} bytes`)
  const high = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0
  const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0
  return high * 0x1_0000_0000 + low
}
