/**
 * A backup directory: `snapshot-YYYYMMDD-HHMMSS.db` (UTC, as the etcd notes' script names them), each with a
 * JSON sidecar `<name>.json` written once it has been verified. A snapshot being written has a hidden temp
 * name carrying the writer's pid, so a half-written file is never taken for a backup.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Errors } from '../errors.js'
import { syncPath } from '../sync-path.js'

const NAME = /^snapshot-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.db$/
const TEMP = /^\.snapshot-\d{8}-\d{6}\.db\.(\d+)\.part$/

/** What verification found, kept beside the backup. */
export interface BackupRecord {
  name: string
  /** When the snapshot was taken (ISO 8601, UTC). */
  time: string
  revision: number
  totalKey: number
  /** The db's size, as etcdctl snapshot status reports it. */
  totalSize: number
  /** etcdctl snapshot status's hash. */
  hash: number
  /** The file's sha256 trailer, hex. */
  sha256: string
  /** Bytes of the file, the trailer included. */
  fileBytes: number
  verifiedAt: string
  /** Set when it was also restored into a temporary embedded store and checked (--verify-restore). */
  restoreVerified?: boolean
  source: string
}

export interface BackupEntry {
  name: string
  /** The file's path, or the object's s3:// URL. */
  path: string
  time: Date
  fileBytes: number
  /** The sidecar, when the backup was verified and the file is still the size it was. */
  record?: BackupRecord
}

/** An entry for a snapshot named `name` of `fileBytes` bytes; its record counts only if it names this snapshot at this size. */
export function backupEntry(name: string, path: string, fileBytes: number, record: BackupRecord | undefined): BackupEntry | undefined {
  const time = backupTime(name)
  if (!time) return undefined
  return { name, path, time, fileBytes, ...(record && record.fileBytes === fileBytes && record.name === name ? { record } : {}) }
}

export const byTime = (a: BackupEntry, b: BackupEntry) => a.time.getTime() - b.time.getTime()

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

export function backupName(at: Date): string {
  const date = `${pad(at.getUTCFullYear(), 4)}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`
  return `snapshot-${date}-${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}.db`
}

/** The time a backup's name says it was taken, or undefined for any other name. */
export function backupTime(name: string): Date | undefined {
  const m = NAME.exec(name)
  if (!m) return undefined
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number]
  const at = new Date(Date.UTC(y, mo - 1, d, h, mi, s))
  return backupName(at) === name ? at : undefined
}

export const tempName = (name: string) => `.${name}.${process.pid}.part`
const sidecarOf = (path: string) => `${path}.json`

/** Removes temp files left by writers that are gone (killed mid-write); returns their names. */
export function removeStaleTemps(dir: string): string[] {
  const removed: string[] = []
  for (const file of readdirSync(dir)) {
    const m = TEMP.exec(file)
    if (!m || alive(Number(m[1]))) continue
    rmSync(join(dir, file), { force: true })
    removed.push(file)
  }
  return removed
}

const STAGING = /^etcdgw-backup-staging-(\d+)-/

/** The staging directories this process made and has not released yet. */
const stagingInUse = new Set<string>()

/**
 * A directory of its own under the system's temp dir for a snapshot bound for the bucket alone (no backup
 * directory, or one that failed) or downloaded from it; first, those of writers that are gone are removed.
 * A server runs several at once (a scheduled backup beside a verification), so this process's own are
 * kept while in use; one with its pid but not in use is a previous process's (pids repeat in containers).
 * Give it back with releaseStagingDir.
 */
export function makeStagingDir(): string {
  for (const entry of readdirSync(tmpdir())) {
    const m = STAGING.exec(entry)
    const path = join(tmpdir(), entry)
    if (m && !stagingInUse.has(path) && !alive(Number(m[1]))) rmSync(path, { recursive: true, force: true })
  }
  const dir = mkdtempSync(join(tmpdir(), `etcdgw-backup-staging-${process.pid}-`))
  stagingInUse.add(dir)
  return dir
}

/** Removes a directory makeStagingDir made. */
export function releaseStagingDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  stagingInUse.delete(dir)
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Every backup in `dir`, oldest first (one that retention removes while it is listed is left out). */
export function listBackups(dir: string): BackupEntry[] {
  const entries: BackupEntry[] = []
  for (const name of readdirSync(dir)) {
    if (!backupTime(name)) continue
    const path = join(dir, name)
    const stat = statSync(path, { throwIfNoEntry: false })
    const entry = stat && backupEntry(name, path, stat.size, readSidecar(path))
    if (entry) entries.push(entry)
  }
  return entries.sort(byTime)
}

function readSidecar(path: string): BackupRecord | undefined {
  try {
    return JSON.parse(readFileSync(sidecarOf(path), 'utf8')) as BackupRecord
  } catch {
    return undefined
  }
}

/** `latest` is the newest verified backup. */
export function findBackup(dir: string, name: string): BackupEntry {
  const all = listBackups(dir)
  const found = name === 'latest' ? all.filter((e) => e.record).at(-1) : all.find((e) => e.name === name)
  if (!found) throw Errors.backupNotFound(name === 'latest' ? 'no verified backup' : `no backup named ${name}`, dir)
  return found
}

/** Writes the sidecar atomically, so a crash leaves the old one or the new one. */
export function writeSidecar(path: string, record: BackupRecord): void {
  const temp = `${sidecarOf(path)}.${process.pid}.part`
  writeFileSync(temp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600, flush: true })
  renameSync(temp, sidecarOf(path))
}

/** The snapshot goes first: a sidecar without its snapshot names no backup. */
export function deleteBackup(entry: BackupEntry, dir: string): void {
  rmSync(entry.path, { force: true })
  rmSync(sidecarOf(entry.path), { force: true })
  syncPath(dir)
}
