/**
 * The writing side of importStore, on its own thread so that lmdb's work overlaps the reading of the
 * snapshot. Its data is the store file's path; its messages, in order:
 * - `{ rows, bytes }`: rows in the first `bytes` of an ArrayBuffer, each a u32 LE length, a revision key
 *   and the row; written in one transaction in key order (lmdb's MDB_APPEND: no search, full pages),
 *   then answered `'written'`;
 * - `{ last }`: the leases and meta entries, written in one transaction; the file is then synced and
 *   closed, and the answer is `'closed'`.
 * A failure is thrown, which ends the thread with it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { openFiles } from './store-file.js'
import { ROW_KEY_BYTES } from './revision.js'

export interface LastWrites {
  /** Lease ID (8 bytes, big-endian) and TTL. */
  leases: Array<[Uint8Array, number]>
  meta: Array<[string, unknown]>
}

const APPEND = { append: true }

const { root, revs, meta } = openFiles(workerData as string)
const leases = root.openDB<number, Buffer>({ name: 'leases', keyEncoding: 'binary' })

parentPort!.on('message', (message: { rows: ArrayBuffer; bytes: number } | { last: LastWrites }) => {
  if ('rows' in message) {
    const rows = Buffer.from(message.rows, 0, message.bytes)
    revs.transactionSync(() => {
      for (let at = 0; at < rows.length; ) {
        const length = rows.readUInt32LE(at)
        const key = at + 4
        const row = key + ROW_KEY_BYTES
        revs.putSync(rows.subarray(key, row), rows.subarray(row, row + length), APPEND)
        at = row + length
      }
    })
    parentPort!.postMessage('written')
    return
  }
  const { last } = message
  root.transactionSync(() => {
    for (const [id, ttl] of last.leases) leases.putSync(Buffer.from(id), ttl)
    for (const [key, value] of last.meta) meta.putSync(key, value)
  })
  void root.flushed
    .then(() => root.close())
    .then(() => parentPort!.postMessage('closed'))
})
