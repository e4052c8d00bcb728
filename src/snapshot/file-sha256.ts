/** The sha256 of the start of an open file, read a megabyte at a time (no memory of the file's size). */
import { createHash } from 'node:crypto'
import { readSync } from 'node:fs'

const CHUNK_BYTES = 1 << 20

/** The sha256 of the first `bytes` bytes of the open file `fd`, or undefined when the file has fewer. */
export function fileSha256(fd: number, bytes: number): Buffer | undefined {
  const sha = createHash('sha256')
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES)
  for (let at = 0; at < bytes; ) {
    const n = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, bytes - at), at)
    if (n === 0) return undefined
    sha.update(chunk.subarray(0, n))
    at += n
  }
  return sha.digest()
}
