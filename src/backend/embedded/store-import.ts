/**
 * Writes a new embedded store from another store's contents (an etcd snapshot being restored): the
 * revisions table, the leases, the alarms, the auth store, the compaction state and the member and cluster IDs.
 */
import { join } from 'node:path'
import type { AuthData } from '../../auth/auth-store.js'
import { AUTH_META_KEY, toSaved } from '../../auth/saved-auth.js'
import { encodedLength, type StoredChange, writeChange } from './kv-codec.js'
import { prepareDataDir } from './data-dir.js'
import { openFiles, STORE_FILE } from './store-file.js'
import { encodeRevKey, writeRevKey } from './revision.js'

export interface ImportedStore {
  clusterId: bigint
  memberId: bigint
  /** Every change in rising revision order (main, then sub), each revision once. */
  changes: Iterable<{ main: number; sub: number; change: StoredChange }>
  leases: Iterable<{ id: bigint; ttl: number }>
  alarms: Array<{ memberId: bigint; alarm: number }>
  /** Users, roles, the enabled flag and the auth revision. */
  auth: AuthData
  /** The compaction etcd had scheduled and the one it had finished (0: none). */
  compactScheduled: number
  compactFinished: number
}

const ROWS_PER_TXN = 20_000
const APPEND = { append: true }

/** Writes the store into `dataDir` (which must be new and empty), laid out as serve keeps it, and syncs it. */
export async function importStore(dataDir: string, s: ImportedStore): Promise<void> {
  const { root, revs, meta } = openFiles(join(prepareDataDir(dataDir, STORE_FILE), STORE_FILE))
  try {
    const leases = root.openDB<number, Buffer>({ name: 'leases', keyEncoding: 'binary' })
    // each row is written as it is read, ROWS_PER_TXN to a transaction; they come in key order, so
    // each is appended at the end of the table's tree (lmdb's MDB_APPEND: no search, full pages)
    const changes = s.changes[Symbol.iterator]()
    // a synchronous put has copied its key and value by the time it returns: one buffer of each serves every row
    const key = encodeRevKey(0, 0)
    let row = Buffer.allocUnsafe(1 << 16)
    let more = true
    while (more) {
      revs.transactionSync(() => {
        for (let n = 0; n < ROWS_PER_TXN; n++) {
          const next = changes.next()
          if (next.done) {
            more = false
            return
          }
          const { main, sub, change } = next.value
          const length = encodedLength(change.kv)
          if (length > row.length) row = Buffer.allocUnsafe(Math.max(length, 2 * row.length))
          revs.putSync(writeRevKey(key, main, sub), writeChange(change, row.subarray(0, length)), APPEND)
        }
      })
    }
    root.transactionSync(() => {
      for (const { id, ttl } of s.leases) {
        const key = Buffer.alloc(8)
        key.writeBigInt64BE(id)
        leases.putSync(key, ttl)
      }
      meta.putSync('clusterId', s.clusterId.toString())
      meta.putSync('memberId', s.memberId.toString())
      if (s.alarms.length > 0) meta.putSync('alarms', s.alarms.map((a) => [a.memberId.toString(), a.alarm]))
      meta.putSync(AUTH_META_KEY, toSaved(s.auth))
      // the embedded store's compactScheduled is the revision reads are refused below, as etcd's after its restart
      const compactRev = Math.max(s.compactScheduled, s.compactFinished)
      if (compactRev > 0) meta.putSync('compactScheduled', compactRev)
      if (s.compactFinished > 0) meta.putSync('compactFinished', s.compactFinished)
    })
    await root.flushed
  } finally {
    await root.close()
  }
}
