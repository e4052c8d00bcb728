/**
 * The embedded store as etcd 3.4's db: its tables read through one lmdb read transaction and laid out
 * in etcd's buckets, so etcdctl can check and restore what `/v3/maintenance/snapshot` streams.
 */
import type { BoltBucket } from '../../snapshot/bolt-writer.js'
import {
  AUTH_KEYS,
  BUCKETS,
  encodeAlarmMember,
  encodeAuthRole,
  encodeAuthUser,
  encodeKeyValue,
  encodeLease,
  encodeRevKey,
  encodeU64,
  META_KEYS,
  REV_KEY_BYTES,
} from '../../snapshot/etcd-db.js'
import { FRESH_AUTH } from '../../auth/auth-store.js'
import { AUTH_META_KEY, fromSaved, type SavedAuth } from '../../auth/saved-auth.js'
import { bytesFieldSize, keyValueSize } from '../../proto-size.js'
import { decodeChange, decodeChangeShape } from './kv-codec.js'
import type { StoreReadTxn } from './store-file.js'
import { decodeRevKey } from './revision.js'

/** etcd 3.4's cluster version, as its `cluster` bucket records it. */
const CLUSTER_VERSION = '3.4.0'
/** Stand-ins for revision keys in the layout pass, where only their lengths count. */
const REV_KEY_SHAPE = Buffer.alloc(REV_KEY_BYTES)
const TOMBSTONE_KEY_SHAPE = Buffer.alloc(REV_KEY_BYTES + 1)

type Entry = { key: Buffer; value: Buffer | number }

const bucket = (name: string, entries: (layout: boolean) => Iterable<Entry>): BoltBucket => ({ name: Buffer.from(name), entries })
const none = () => []
const str = (s: string) => Buffer.from(s, 'latin1')

/** The embedded store's tables a snapshot reads besides its revisions and meta (open them before its transaction). */
export const SNAPSHOT_TABLES = ['leases'] as const
const [LEASES] = SNAPSHOT_TABLES

/** The buckets of the snapshot, each read again for each pass of the writer. */
export function etcdBuckets(txn: StoreReadTxn): BoltBucket[] {
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
    bucket(BUCKETS.alarm, () => {
      const alarms = meta<Array<[string, number]>>('alarms') ?? []
      return alarms
        .map(([member, alarm]) => ({ key: encodeAlarmMember(BigInt(member), alarm), value: Buffer.alloc(0) }))
        .sort((a, b) => Buffer.compare(a.key, b.key))
    }),
    bucket(BUCKETS.auth, () => {
      const { enabled, revision } = auth()
      const entries = [{ key: str(AUTH_KEYS.revision), value: encodeU64(revision) }]
      // etcd writes the flag the first time auth is enabled, and keeps it (as 0) once disabled
      if (enabled || revision > 1) entries.unshift({ key: str(AUTH_KEYS.enabled), value: Buffer.from([enabled ? 1 : 0]) })
      return entries
    }),
    bucket(BUCKETS.authRoles, () => byKey(auth().roles.map((r) => ({ key: Buffer.from(r.name), value: encodeAuthRole(r) })))),
    bucket(BUCKETS.authUsers, () => byKey(auth().users.map((u) => ({ key: Buffer.from(u.name), value: encodeAuthUser(u) })))),
    bucket(BUCKETS.cluster, () => [{ key: str('clusterVersion'), value: str(CLUSTER_VERSION) }]),
    bucket(BUCKETS.key, function* (layout) {
      for (const { key, value } of txn.revisions.getRange({ transaction })) {
        const rev = decodeRevKey(key)
        if (layout) {
          // only lengths count here: nothing is decoded or encoded
          const row = decodeChangeShape(value)
          const size = row.tombstone ? bytesFieldSize(row.key.length) : keyValueSize(row)
          yield { key: row.tombstone ? TOMBSTONE_KEY_SHAPE : REV_KEY_SHAPE, value: size }
          continue
        }
        // the row is encoded before the next one is read, so it is read in place
        const { kv, tombstone } = decodeChange(value)
        // etcd keeps only the key in a tombstone's record: its revision is in the record's key
        const record = tombstone ? { ...kv, modRevision: 0 } : kv
        yield { key: encodeRevKey(rev.main, rev.sub, tombstone), value: encodeKeyValue(record) }
      }
    }),
    bucket(BUCKETS.lease, function* () {
      for (const { key, value } of txn.tables.get(LEASES)!.getRange({ transaction })) {
        const id = Buffer.from(key)
        // the lessor keeps each lease's TTL, in seconds, as the row's value
        yield { key: id, value: encodeLease({ id: id.readBigInt64BE(), ttl: value as number }) }
      }
    }),
    bucket(BUCKETS.members, none),
    bucket(BUCKETS.membersRemoved, none),
    bucket(BUCKETS.meta, () => {
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
