/**
 * Where backups are kept, as retention, `backup list`, `verify` and `restore` see it: a directory, or a bucket
 * (s3-store.ts). Both hold the same names and records; retention is the same rule applied to each.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type BackupEntry, type BackupRecord, deleteBackup, listBackups, writeSidecar } from './backup-files.js'
import { expiredBackups, type RetentionPolicy } from './retention.js'

export interface BackupStore {
  /** `dir` or `s3`: what `backup list` shows in WHERE. */
  readonly kind: 'dir' | 's3'
  /** The directory, or s3://bucket/prefix: the metrics' destination label and the logs'. */
  readonly description: string
  /** Every backup, oldest first. */
  list(): Promise<BackupEntry[]>
  /** The snapshot first: a record without its snapshot names no backup. */
  remove(entry: BackupEntry): Promise<void>
  /** Marks the backup the record names verified (a sidecar, or its record object). */
  writeRecord(record: BackupRecord): Promise<void>
  /** A local file holding the backup, and what to call once done with it (a download is removed then). */
  localCopy(entry: BackupEntry): Promise<{ path: string; release: () => void }>
}

/** A directory not made yet holds no backups. */
export function dirStore(dir: string): BackupStore {
  return {
    kind: 'dir',
    description: dir,
    list: async () => (existsSync(dir) ? listBackups(dir) : []),
    remove: async (entry) => deleteBackup(entry, dir),
    writeRecord: async (record) => writeSidecar(join(dir, record.name), record),
    localCopy: async (entry) => ({ path: entry.path, release: () => undefined }),
  }
}

export interface Retained {
  deleted: string[]
  /** Verified backups left. */
  kept: number
}

/** Retention in one store; its clock is the backup's, so a slow backup can only make it keep more. */
export async function retain(store: BackupStore, policy: RetentionPolicy, now: Date): Promise<Retained> {
  const all = await store.list()
  const expired = new Set(expiredBackups(all.map((e) => ({ name: e.name, time: e.time, verified: e.record !== undefined })), policy, now))
  for (const entry of all) if (expired.has(entry.name)) await store.remove(entry)
  return { deleted: [...expired], kept: all.filter((e) => e.record && !expired.has(e.name)).length }
}
