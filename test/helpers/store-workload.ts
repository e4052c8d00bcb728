/**
 * Writes for the restart tests, made the same way in the test process and in a store child: many keys
 * per revision, rewrites, deletes (single keys and ranges), keys attached to leases and moved between
 * them; and what two stores are compared by: every key's revisions in the index, the lease
 * attachments, and the answers of ranges at every revision kept.
 */
import { createHash } from 'node:crypto'
import type { KeyIndex } from '../../src/backend/embedded/key-index.js'
import type { LeaseAttachments } from '../../src/backend/embedded/lease-attachments.js'
import type { MvccStore } from '../../src/backend/embedded/mvcc-store.js'

const keyOf = (i: number) => Buffer.from(`k/${String(i).padStart(6, '0')}`)
export const LEASES = [7n, 11n]

/** `keys` keys in writes of 128 puts, then `rounds` rounds of rewrites, deletes and lease moves. */
export async function writeWorkload(store: MvccStore, keys: number, rounds: number, seed = 1): Promise<void> {
  for (let i = 0; i < keys; i += 128) {
    const txn = store.write()
    for (let j = i; j < Math.min(keys, i + 128); j++) txn.put(keyOf(j), Buffer.from(`v${j}`), j % 13 === 0 ? LEASES[j % 2]! : 0n)
    await txn.end()
  }
  for (let r = 0; r < rounds; r++) {
    const at = (n: number) => (seed * 7919 + r * 104_729 + n * 31) % keys
    const txn = store.write()
    for (let n = 0; n < 40; n++) txn.put(keyOf(at(n)), Buffer.from(`r${r}.${n}`), n % 5 === 0 ? LEASES[(r + n) % 2]! : 0n)
    await txn.end()
    const del = store.write()
    if (r % 3 === 0) del.deleteRange(keyOf(at(50)), keyOf(Math.min(keys, at(50) + 20)))
    else del.deleteRange(keyOf(at(60)), undefined)
    await del.end()
  }
}

/**
 * One write of every kind on keys the workload made: a leased key's lease dropped, a key moved to a lease,
 * a deletion and a new leased key. Resolves when the write is durable.
 */
export function writeMixed(store: MvccStore): Promise<unknown> {
  const txn = store.write()
  txn.put(keyOf(0), Buffer.from('no lease now'), 0n)
  txn.put(keyOf(1), Buffer.from('leased now'), LEASES[1]!)
  txn.deleteRange(keyOf(13), undefined)
  txn.put(Buffer.from('new/key'), Buffer.from('leased'), LEASES[0]!)
  return txn.end()
}

/** Every key with its revisions, as the index holds them. */
export function indexDump(index: KeyIndex): string[] {
  const out: string[] = []
  index.forEachHistory(Infinity, (key, h, revisions) => {
    const revs: string[] = []
    for (let i = 0; i < revisions; i++) revs.push(`${h.mainAt(i)}.${h.taggedSubAt(i)}`)
    out.push(`${key} ${revs.join(' ')}`)
  })
  return out
}

/** Every lease's keys. */
export function leaseDump(attachments: LeaseAttachments): string[][] {
  return LEASES.map((lease) => attachments.keysOf(lease))
}

/**
 * At each revision from the compaction's to the newest: the count of every key, and a digest of a page
 * of up to 2,000 keys (keys, values, revisions, versions, leases).
 */
export function answersDump(store: MvccStore): string[] {
  const view = store.read()
  const out: string[] = []
  for (let rev = Math.max(store.compactRev, 1); rev <= view.rev; rev++) {
    const all = view.range(Buffer.from('\0'), Buffer.alloc(0), { limit: 0, rev, count: true })
    const { kvs } = view.range(Buffer.from('\0'), Buffer.alloc(0), { limit: 2000, rev, count: false })
    const hash = createHash('sha256')
    for (const kv of kvs) hash.update(`${kv.key.toString('latin1')}=${kv.value.toString('latin1')} ${kv.createRevision} ${kv.modRevision} ${kv.version} ${kv.lease}\n`)
    out.push(`${rev}: ${all.count} ${hash.digest('hex')}`)
  }
  return out
}
