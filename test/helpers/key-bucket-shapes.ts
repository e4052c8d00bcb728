/**
 * The snapshot's `key` bucket laid out two ways from one read transaction of a store: carried on from
 * the layout the store keeps, and from nothing over every row. Both must give the same tree. And a
 * store's snapshot file, as the stream writes it.
 */
import { etcdBuckets, SNAPSHOT_TABLES } from '../../src/backend/embedded/etcd-snapshot.js'
import type { LaidOutRows } from '../../src/backend/embedded/key-bucket-layout.js'
import type { MvccStore } from '../../src/backend/embedded/mvcc-store.js'
import type { StoreReadTxn } from '../../src/backend/embedded/store-file.js'
import { BucketLayout, layOutBolt, type TreeShape } from '../../src/snapshot/bolt-writer.js'

export interface KeyBucketShapes {
  /** The revision the store's layout was kept through (0: none kept). */
  keptThrough: number
  /** Carried on from the store's layout over the rows after it. */
  kept: TreeShape
  /** Laid out from every row. */
  full: TreeShape
  /** The last revision read. */
  through: number
}

/** Lays `laidOut` on over the transaction's rows after it, as a snapshot's layout pass does. */
export function carryOn(txn: StoreReadTxn, laidOut: LaidOutRows): TreeShape {
  const key = etcdBuckets(txn, laidOut).find((b) => b.name.toString() === 'key')!
  const { layout, rest } = key.laidOutPart!()
  for (const entry of rest) layout.add(entry.key.length, entry.valueBytes)
  return layout.shape()
}

/** The shapes of the store's snapshot once it holds every write acknowledged (as a snapshot waits for them). */
export async function keyBucketShapes(store: MvccStore): Promise<KeyBucketShapes> {
  await store.writesSettled()
  const txn = store.readTransaction(SNAPSHOT_TABLES)
  const laidOut = store.keyBucketLayout.startFor()
  try {
    const keptThrough = laidOut.through
    const kept = carryOn(txn, laidOut)
    return { keptThrough, kept, full: carryOn(txn, { layout: BucketLayout.empty(), through: 0, removals: 0 }), through: laidOut.through }
  } finally {
    txn.done()
  }
}

/**
 * The db bytes of `store`'s snapshot (no sha256 trailer), laid out as the snapshot stream does: the key
 * bucket carried on from the store's layout (`kept`), or from every row.
 */
export async function snapshotDb(store: MvccStore, from: 'kept' | 'rows' = 'kept'): Promise<Buffer> {
  await store.writesSettled()
  const txn = store.readTransaction(SNAPSHOT_TABLES)
  const laidOut = from === 'kept' ? store.keyBucketLayout.startFor() : undefined
  try {
    const layout = await layOutBolt(etcdBuckets(txn, laidOut))
    const pages: Buffer[] = []
    for await (const step of layout.pages()) for (const page of step) pages.push(Buffer.from(page))
    return Buffer.concat(pages)
  } finally {
    txn.done()
  }
}
