/**
 * `etcdgw snapshot get`: a range read at a revision straight from a snapshot file, with etcd's
 * answers (compacted and future revisions refused), by one pass over the `key` bucket. Memory holds
 * only the keys in the range.
 */
import type { KeyValue, RangeResponse } from '../backend/backend.js'
import { Errors } from '../errors.js'
import { BoltFile } from './bolt-reader.js'
import { BUCKETS, decodeKeyValue, decodeRevKey, readCompaction } from './etcd-db.js'

export interface SnapshotRangeRequest {
  key: Buffer
  /** undefined: the key alone; a single zero byte: every key from `key` on; else [key, rangeEnd). */
  rangeEnd: Buffer | undefined
  /** 0: the snapshot's revision. */
  revision: number
  keysOnly: boolean
}

export function snapshotRange(file: string, req: SnapshotRangeRequest): RangeResponse {
  const db = BoltFile.open(file)
  try {
    const { scheduled, finished } = readCompaction(db)
    const compacted = Math.max(scheduled, finished)
    const inRange = rangeTest(req.key, req.rangeEnd)
    const latest = new Map<string, KeyValue | undefined>()
    let current = compacted
    // every revision is read (the current one is the last); only those up to the asked one count
    for (const { key, value } of db.entries(BUCKETS.key)) {
      const rev = decodeRevKey(key)
      current = Math.max(current, rev.main)
      const kv = decodeKeyValue(value)
      if (!inRange(kv.key)) continue
      // the record's key and value are views of its page: copied when kept
      if (req.revision <= 0 || rev.main <= req.revision) {
        latest.set(kv.key.toString('latin1'), rev.tombstone ? undefined : { ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) })
      }
    }
    const revision = req.revision <= 0 ? current : req.revision
    if (revision > current) throw Errors.futureRev()
    if (revision < compacted) throw Errors.compacted()
    const kvs = [...latest.entries()]
      .filter((e): e is [string, KeyValue] => e[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, kv]) => (req.keysOnly ? { ...kv, value: Buffer.alloc(0) } : kv))
    return { header: { clusterId: 0n, memberId: 0n, revision: current, raftTerm: 0 }, kvs, more: false, count: kvs.length }
  } finally {
    db.close()
  }
}

function rangeTest(key: Buffer, end: Buffer | undefined): (k: Buffer) => boolean {
  if (end === undefined) return (k) => k.equals(key)
  if (end.length === 1 && end[0] === 0) return (k) => Buffer.compare(k, key) >= 0
  return (k) => Buffer.compare(k, key) >= 0 && Buffer.compare(k, end) < 0
}
