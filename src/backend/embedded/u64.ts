/** Unsigned 64-bit big-endian fields holding JS numbers (revisions and versions stay below 2^53). */
export function writeU64(b: Buffer, at: number, n: number): void {
  b.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at)
  b.writeUInt32BE(n >>> 0, at + 4)
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
