/**
 * importStore's writing on a thread of its own, so that lmdb's work overlaps the reading of the
 * snapshot. Its data is the store file's path; its messages, in order:
 * - `{ rows, bytes }`: a batch of rows (ImportWrites.rows) in the first `bytes` of an ArrayBuffer,
 *   answered `'written'` once written;
 * - `{ last }`: the last writes (ImportWrites.last), answered `'closed'` once the file is synced and closed.
 * A failure is thrown, which ends the thread with it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ImportWrites, type LastWrites } from './import-writes.js'

const writes = new ImportWrites(workerData as string)

parentPort!.on('message', (message: { rows: ArrayBuffer; bytes: number } | { last: LastWrites }) => {
  if ('rows' in message) {
    writes.rows(Buffer.from(message.rows, 0, message.bytes))
    parentPort!.postMessage('written')
    return
  }
  void writes.last(message.last).then(() => parentPort!.postMessage('closed'))
})
