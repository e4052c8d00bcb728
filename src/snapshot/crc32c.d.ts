/** crc-32's CRC-32C (Castagnoli) entry point, which its own types do not describe. */
declare module 'crc-32/crc32c.js' {
  const crc32c: {
    /** The CRC-32C of `data` continuing from `seed` (a previous result), as a signed 32-bit integer. */
    buf(data: Uint8Array, seed?: number): number
  }
  export default crc32c
}
