import CRC32C from 'crc-32/crc32c.js'
import { BoltFile } from './bolt-reader.js'
import { BUCKETS, decodeRevKey } from './etcd-db.js'

/** What `etcdctl snapshot status` reports. */
export interface SnapshotStatus {
  hash: number
  revision: number
  totalKey: number
  totalSize: number
}

/**
 * etcdctl's snapshot status: after bbolt's integrity check, a CRC-32C over every bucket's name and
 * entries in order, the main revision of the `key` bucket's last entry, the entry count and the db's size.
 */
export function snapshotStatus(path: string): SnapshotStatus {
  const db = BoltFile.open(path)
  try {
    db.check()
    let hash = 0
    let revision = 0
    let totalKey = 0
    for (const { name, entries } of db.buckets()) {
      hash = CRC32C.buf(name, hash)
      const isKey = name.toString('latin1') === BUCKETS.key
      for (const { key, value } of entries) {
        hash = CRC32C.buf(value, CRC32C.buf(key, hash))
        if (isKey) revision = decodeRevKey(key).main
        totalKey++
      }
    }
    return { hash: hash >>> 0, revision, totalKey, totalSize: db.size }
  } finally {
    db.close()
  }
}
