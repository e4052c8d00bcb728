/**
 * The lmdb side of importStore, the same on the calling thread (a small store) and on a thread of its
 * own (store-import-worker): batches of encoded rows, then the leases and meta entries, then the file
 * synced and closed.
 */
import type { Database, RootDatabase } from 'lmdb'
import { openFiles } from './store-file.js'
import { LEASES } from './logged-writes.js'
import { ROW_KEY_BYTES } from './revision.js'

/** Before each row of a batch: its length. */
export const ROW_LENGTH_BYTES = 4

/** What is written last, in one transaction. */
export interface LastWrites {
  /** Lease ID (8 bytes, big-endian) and TTL. */
  leases: Array<[Uint8Array, number]>
  meta: Array<[string, unknown]>
}

const APPEND = { append: true }

export class ImportWrites {
  private readonly root: RootDatabase
  private readonly revs: Database<Buffer, Buffer>
  private readonly meta: Database<unknown, string>

  /** Opens the new store file at `path`. */
  constructor(path: string) {
    ;({ root: this.root, revs: this.revs, meta: this.meta } = openFiles(path))
  }

  /**
   * Writes the rows of `batch` (each a u32 LE length, a revision key and the row) in one transaction, in
   * key order: lmdb's MDB_APPEND, no search and full pages.
   */
  rows(batch: Buffer): void {
    const revs = this.revs
    revs.transactionSync(() => {
      for (let at = 0; at < batch.length; ) {
        const length = batch.readUInt32LE(at)
        const key = at + ROW_LENGTH_BYTES
        const row = key + ROW_KEY_BYTES
        revs.putSync(batch.subarray(key, row), batch.subarray(row, row + length), APPEND)
        at = row + length
      }
    })
  }

  /** Writes the leases and meta entries in one transaction, then syncs and closes the file. */
  async last({ leases, meta }: LastWrites): Promise<void> {
    const table = this.root.openDB<number, Buffer>({ name: LEASES, keyEncoding: 'binary' })
    this.root.transactionSync(() => {
      for (const [id, ttl] of leases) table.putSync(Buffer.from(id), ttl)
      for (const [key, value] of meta) this.meta.putSync(key, value)
    })
    await this.root.flushed
    await this.close()
  }

  /** Closes the file (after last(), or instead of it when the import failed). */
  close(): Promise<void> {
    return this.root.close()
  }
}
