/**
 * The embedded store as etcd 3.4's db: its tables read through one lmdb read transaction and laid out
 * in etcd's buckets, so etcdctl can check and restore what `/v3/maintenance/snapshot` streams.
 */
import { type BoltBucket, type BoltEntry, BucketLayout, bufferEntry } from '../../snapshot/bolt-writer.js'
import {
  AUTH_KEYS,
  BUCKETS,
  encodeAlarmMember,
  encodeAuthRole,
  encodeAuthUser,
  encodeLease,
  encodeRevKey,
  encodeU64,
  META_KEYS,
  REV_KEY_BYTES,
  revisionEntrySizes,
  writeKeyValue,
  writeRevKey,
} from '../../snapshot/etcd-db.js'
import { FRESH_AUTH } from '../../auth/auth-store.js'
import { AUTH_META_KEY, fromSaved, type SavedAuth } from '../../auth/saved-auth.js'
import { keyValueSize } from '../../proto-size.js'
import type { LaidOutRows } from './key-bucket-layout.js'
import { ChangeInPlace } from './kv-codec.js'
import type { StoreReadTxn } from './store-file.js'
import { decodeRevKey, type Revision } from './revision.js'
import { LEASES } from './logged-writes.js'

/** etcd 3.4's cluster version, as its `cluster` bucket records it. */
const CLUSTER_VERSION = '3.4.0'

type Entry = { key: Buffer; value: Buffer }

const bucket = (name: string, entries: (layout: boolean) => Iterable<BoltEntry>): BoltBucket => ({ name: Buffer.from(name), entries })
/** A bucket of few entries, built whole. */
const small = (name: string, entries: () => Entry[]): BoltBucket => bucket(name, () => entries().map(({ key, value }) => bufferEntry(key, value)))
const none = (): Entry[] => []
const str = (s: string) => Buffer.from(s, 'latin1')

/** The embedded store's tables a snapshot reads besides its revisions and meta (open them before its transaction). */
export const SNAPSHOT_TABLES = [LEASES] as const

/**
 * The buckets of the snapshot, each read again for each pass of the writer. The `key` bucket's layout
 * pass carries `laidOut` on over the rows after it, which leaves it the layout of every row read.
 */
export function etcdBuckets(txn: StoreReadTxn, laidOut: LaidOutRows = { layout: BucketLayout.empty(), through: 0, removals: 0 }): BoltBucket[] {
  const { transaction } = txn
  const meta = <T>(name: string) => txn.meta.get(name, { transaction }) as T | undefined
  const lastRevision = () => {
    for (const { key } of txn.revisions.getRange({ reverse: true, limit: 1, transaction })) return decodeRevKey(key).main
    return 1
  }
  const auth = () => {
    const saved = meta<SavedAuth>(AUTH_META_KEY)
    return saved ? fromSaved(saved) : FRESH_AUTH
  }
  const byKey = (entries: Entry[]) => entries.sort((a, b) => Buffer.compare(a.key, b.key))
  return [
    small(BUCKETS.alarm, () => {
      const alarms = meta<Array<[string, number]>>('alarms') ?? []
      return alarms
        .map(([member, alarm]) => ({ key: encodeAlarmMember(BigInt(member), alarm), value: Buffer.alloc(0) }))
        .sort((a, b) => Buffer.compare(a.key, b.key))
    }),
    small(BUCKETS.auth, () => {
      const { enabled, revision } = auth()
      const entries = [{ key: str(AUTH_KEYS.revision), value: encodeU64(revision) }]
      // etcd writes the flag the first time auth is enabled, and keeps it (as 0) once disabled
      if (enabled || revision > 1) entries.unshift({ key: str(AUTH_KEYS.enabled), value: Buffer.from([enabled ? 1 : 0]) })
      return entries
    }),
    small(BUCKETS.authRoles, () => byKey(auth().roles.map((r) => ({ key: Buffer.from(r.name), value: encodeAuthRole(r) })))),
    small(BUCKETS.authUsers, () => byKey(auth().users.map((u) => ({ key: Buffer.from(u.name), value: encodeAuthUser(u) })))),
    small(BUCKETS.cluster, () => [{ key: str('clusterVersion'), value: str(CLUSTER_VERSION) }]),
    {
      name: Buffer.from(BUCKETS.key),
      *entries() {
        const entry = new RevisionEntry()
        // the writer is done with each row before the next is read, so rows are read in place
        for (const { key, value } of txn.revisionRows()) {
          entry.read(key, value)
          yield entry
        }
      },
      laidOutPart: () => ({ layout: laidOut.layout, rest: keyRowsAfter(txn, laidOut) }),
    },
    bucket(BUCKETS.lease, function* () {
      for (const { key, value } of txn.tables.get(LEASES)!.getRange({ transaction })) {
        const id = Buffer.from(key)
        // the lessor keeps each lease's TTL, in seconds, as the row's value
        yield bufferEntry(id, encodeLease({ id: id.readBigInt64BE(), ttl: value as number }))
      }
    }),
    small(BUCKETS.members, none),
    small(BUCKETS.membersRemoved, none),
    small(BUCKETS.meta, () => {
      const scheduled = meta<number>('compactScheduled') ?? -1
      const finished = meta<number>('compactFinished') ?? -1
      const revision = Math.max(lastRevision(), scheduled, 1)
      // etcd's consistent index is its applied raft index, which the embedded store counts the same way
      const entries = [{ key: str(META_KEYS.consistentIndex), value: encodeU64(revision + (meta<number>('otherEntries') ?? 0)) }]
      if (finished > 0) entries.push({ key: str(META_KEYS.finishedCompact), value: encodeRevKey(finished, 0) })
      if (scheduled > 0) entries.push({ key: str(META_KEYS.scheduledCompact), value: encodeRevKey(scheduled, 0) })
      return entries
    }),
  ]
}

/**
 * The `key` bucket's entries of the rows `txn` reads after those `laidOut` is the layout of, for the
 * layout pass (their sizes only), moving `laidOut.through` along.
 */
export function* keyRowsAfter(txn: StoreReadTxn, laidOut: LaidOutRows): Generator<BoltEntry> {
  const entry = new RevisionEntry()
  for (const { key, value } of txn.revisionRows(laidOut.through + 1)) {
    entry.measure(value)
    laidOut.through = key.main
    yield entry
  }
}

/**
 * The `key` bucket's entry for one row of the revisions table, reused for every row: its revision key
 * written into one of two buffers (a tombstone's is a byte longer), its record written by the bolt
 * writer straight into its page from the row's bytes.
 */
class RevisionEntry implements BoltEntry {
  key = Buffer.alloc(REV_KEY_BYTES)
  valueBytes = 0
  private readonly revKey = this.key
  private readonly tombstoneKey = Buffer.alloc(REV_KEY_BYTES + 1)
  private readonly change = new ChangeInPlace()

  /** The layout pass: only the lengths of the row's key and record, nothing encoded. */
  measure(row: Buffer): void {
    const change = this.change.read(row)
    this.key = change.tombstone ? this.tombstoneKey : this.revKey
    this.valueBytes = revisionEntrySizes(change, change.tombstone).valueBytes
  }

  /** `row` (of revision `main`, `sub`) as etcd keeps it; its key and value stay ranges of the row. */
  read({ main, sub }: Revision, row: Buffer): void {
    const change = this.change.read(row)
    this.key = change.tombstone ? this.tombstoneKey : this.revKey
    writeRevKey(this.key, main, sub)
    // etcd keeps only the key in a tombstone's record: its revision is in the record's key
    if (change.tombstone) change.modRevision = 0
    this.valueBytes = keyValueSize(change)
  }

  writeValue(target: Buffer, at: number): void {
    writeKeyValue(this.change, target, at)
  }
}
