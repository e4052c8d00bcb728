import { crc32 } from 'node:zlib'
import type { MvccStore } from './mvcc-store.js'

/**
 * etcd 3.4's Hash for the embedded store: a crc32 over every table's name and rows. Equal data gives
 * an equal hash, whatever the file's layout (defragment, snapshot and restore keep it).
 */
export function storeHash(store: MvccStore): number {
  let hash = 0
  let table = ''
  for (const row of store.dataRows()) {
    if (row.table !== table) hash = crc32((table = row.table), hash)
    hash = crc32(row.value, crc32(row.key, hash))
  }
  // the name counts even for an empty store, which so still has a (nonzero) hash, as etcd's
  return table === '' ? crc32('revisions', hash) : hash
}
