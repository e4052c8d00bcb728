/** Unsigned 64-bit big-endian fields holding JS numbers (revisions and versions stay below 2^53). */
export function writeU64(b: Buffer, at: number, n: number): void {
  b.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at)
  b.writeUInt32BE(n >>> 0, at + 4)
}

export function readU64(b: Buffer, at: number): number {
  return b.readUInt32BE(at) * 0x1_0000_0000 + b.readUInt32BE(at + 4)
}
