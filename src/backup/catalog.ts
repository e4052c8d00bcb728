/**
 * The backups of a directory, a bucket or both, by name: what `etcdgw backup list|verify|restore` and the
 * gateway's GET /backups and POST /backups/verify show and do. A backup counts as verified where its copy
 * has a record; verifying again reads every copy (a bucket's is downloaded) and compares it with its record.
 */
import { type BackupEntry, backupTime } from './backup-files.js'
import type { BackupStore } from './backup-store.js'
import { verifyOffThread } from './verify-off-thread.js'
import type { Verified } from './verify.js'
import { Errors } from '../errors.js'

/** A backup's copies, in the stores that hold it. */
export interface Located {
  name: string
  time: Date
  copies: Array<{ store: BackupStore; entry: BackupEntry }>
}

/** Every backup of the stores, oldest first. */
export async function locate(stores: readonly BackupStore[]): Promise<Located[]> {
  const byName = new Map<string, Located>()
  for (const store of stores) {
    for (const entry of await store.list()) {
      const found = byName.get(entry.name) ?? { name: entry.name, time: entry.time, copies: [] }
      found.copies.push({ store, entry })
      byName.set(entry.name, found)
    }
  }
  return [...byName.values()].sort((a, b) => a.time.getTime() - b.time.getTime())
}

/** NAME, or `latest`: the newest backup verified in some store. */
export async function findLocated(stores: readonly BackupStore[], name: string): Promise<Located> {
  const all = await locate(stores)
  const found = name === 'latest' ? all.filter((b) => b.copies.some((c) => c.entry.record)).at(-1) : all.find((b) => b.name === name)
  if (!found) throw Errors.backupNotFound(name === 'latest' ? 'no verified backup' : `no backup named ${name}`, stores.map((s) => s.description).join(' or '))
  return found
}

/** dir, s3, or both. */
export const whereOf = (b: Located): string => (b.copies.length > 1 ? 'both' : b.copies[0]!.store.kind)

/** A backup as `backup list -w json` and GET /backups show it. */
export interface ListedBackup {
  name: string
  time: string
  where: string
  paths: string[]
  fileBytes: number
  /** Every copy has its record. */
  verified: boolean
  revision?: number
  totalKey?: number
  hash?: number
  sha256?: string
}

export function listed(b: Located): ListedBackup {
  const r = b.copies.find((c) => c.entry.record)?.entry.record
  return {
    name: b.name,
    time: b.time.toISOString(),
    where: whereOf(b),
    paths: b.copies.map((c) => c.entry.path),
    fileBytes: b.copies[0]!.entry.fileBytes,
    verified: b.copies.every((c) => c.entry.record),
    ...(r ? { revision: r.revision, totalKey: r.totalKey, hash: r.hash, sha256: r.sha256 } : {}),
  }
}

/** What verifying one copy found. */
export interface VerifiedCopy extends Verified {
  name: string
  /** The store's description: the directory, or s3://bucket/prefix. */
  store: string
}

/**
 * Verifies every copy again (off the event loop): trailer, every page, every key, then compares each with
 * its record; a copy without one gets it. Throws Errors.snapshotInvalid for the first copy that fails.
 */
export async function verifyCopies(found: Located, now: () => Date = () => new Date()): Promise<VerifiedCopy[]> {
  const out: VerifiedCopy[] = []
  for (const { store, entry } of found.copies) {
    const copy = await store.localCopy(entry)
    try {
      const checked = await verifyOffThread(copy.path)
      const r = entry.record
      if (r && (r.sha256 !== checked.sha256 || r.revision !== checked.revision || r.totalKey !== checked.totalKey || r.hash !== checked.hash)) {
        throw Errors.snapshotInvalid(`${entry.path} no longer matches its record (revision ${r.revision}, hash ${r.hash.toString(16)})`)
      }
      if (!r) await store.writeRecord({ name: entry.name, time: backupTime(entry.name)!.toISOString(), ...checked, verifiedAt: now().toISOString(), source: '' })
      out.push({ name: entry.name, store: store.description, ...checked })
    } finally {
      copy.release()
    }
  }
  return out
}
