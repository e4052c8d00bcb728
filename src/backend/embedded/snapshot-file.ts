/**
 * Snapshot files of the embedded store, as `etcdgw snapshot save` writes them: the compacted lmdb
 * file followed by the sha256 of it (etcd's layout: etcdctl keeps the stream's last message too).
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import { MvccStore } from './mvcc-store.js'
import { storeHash } from './store-hash.js'

const SHA_BYTES = 32
const LMDB_MAGIC = 0xbeefc0de

export class SnapshotFileError extends Error {}

export interface SnapshotStatus {
  hash: number
  revision: number
  totalKey: number
  totalSize: number
}

/** The lmdb file inside a snapshot file, after checking its trailing sha256. */
export function readSnapshotData(file: string): Buffer {
  const bytes = readFileSync(file)
  if (bytes.length <= SHA_BYTES) throw new SnapshotFileError(`${file}: too short to be a snapshot`)
  const data = bytes.subarray(0, bytes.length - SHA_BYTES)
  const sha = createHash('sha256').update(data).digest()
  if (!sha.equals(bytes.subarray(bytes.length - SHA_BYTES))) {
    throw new SnapshotFileError(`${file}: sha256 mismatch: the snapshot is damaged or incomplete`)
  }
  // the first meta page holds lmdb's magic after the page header (24 bytes in lmdb-js's lmdb)
  if (data.length < 28 || data.readUInt32LE(24) !== LMDB_MAGIC) {
    throw new SnapshotFileError(`${file}: not an etcdgw (embedded store) snapshot; an etcd snapshot is read by etcdctl`)
  }
  return data
}

/** etcdctl's `snapshot status` numbers for a snapshot file of the embedded store. */
export async function snapshotStatus(file: string): Promise<SnapshotStatus> {
  const data = readSnapshotData(file)
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-snapshot-'))
  try {
    writeFileSync(join(dir, 'store.mdb'), data)
    const store = await MvccStore.open(dir)
    try {
      store.table('leases')
      let totalKey = 0
      for (const _ of store.dataRows()) totalKey++
      return { hash: storeHash(store), revision: store.currentRev, totalKey, totalSize: data.length }
    } finally {
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A new data dir from a snapshot, as etcdctl's restore: the data as it was, under new member and
 * cluster IDs (it is a new cluster). Refuses a data dir that has anything in it.
 */
export async function restoreSnapshot(file: string, dataDir: string): Promise<{ clusterId: bigint; memberId: bigint }> {
  const data = readSnapshotData(file)
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new SnapshotFileError(`data-dir "${dataDir}" is not empty: restore needs a new one`)
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  writeFileSync(join(dataDir, 'store.mdb'), data, { mode: 0o600 })
  const ids = { clusterId: randomId(), memberId: randomId() }
  const root = open({ path: join(dataDir, 'store.mdb'), overlappingSync: false, maxDbs: 8 })
  try {
    const meta = root.openDB<unknown, string>({ name: 'meta' })
    await meta.put('clusterId', ids.clusterId.toString())
    await meta.put('memberId', ids.memberId.toString())
  } finally {
    await root.close()
  }
  return ids
}

function randomId(): bigint {
  const id = randomBytes(8).readBigUInt64BE()
  return id === 0n ? 1n : id
}
