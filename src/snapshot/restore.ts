/**
 * `etcdgw snapshot restore`: a new embedded data dir from an etcd snapshot (etcd's or etcdgw's), as
 * etcdctl's restore makes an etcd data dir: the trailer checked unless told not to, every page and
 * record checked as it is read, and a data dir that already exists refused.
 * The dir is built beside its final path and renamed into place, so a failed restore leaves nothing.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { EtcdError, Errors } from '../errors.js'
import type { StoredChange } from '../backend/embedded/kv-codec.js'
import { importStore } from '../backend/embedded/store-import.js'
import { BoltFile } from './bolt-reader.js'
import { clusterIds, type ClusterFlags } from './etcd-ids.js'
import { readAuth } from './auth-buckets.js'
import { BUCKETS, decodeAlarmMember, decodeKeyValue, decodeLease, decodeRevKey, readCompaction } from './etcd-db.js'

export interface RestoreOptions extends ClusterFlags {
  dataDir: string
  skipHashCheck: boolean
}

/**
 * Snapshots of this many bytes or more are hashed and written on threads of their own: starting one
 * costs tens of milliseconds, which a smaller file's restore does not win back.
 */
const ASIDE_BYTES = 32 << 20

/** etcd's MaxLeaseTTL. */
const MAX_LEASE_TTL = 9_000_000_000

export async function restoreSnapshot(file: string, opts: RestoreOptions): Promise<{ clusterId: bigint; memberId: bigint }> {
  refuseExisting(opts.dataDir)
  const ids = clusterIds(opts)
  const db = openChecked(file, opts.skipHashCheck, { matchTrailer: false })
  // a large file's trailer is hashed on another thread while the store is written (a mismatch fails the
  // restore at its end), and lmdb writes the store on a third
  const aside = db.fileBytes >= ASIDE_BYTES
  const hashed = opts.skipHashCheck ? Promise.resolve(undefined) : trailerMismatch(db, file, aside)
  const target = resolve(opts.dataDir)
  try {
    // a small file's trailer is checked before anything is written
    const mismatch = aside ? undefined : await hashed
    if (mismatch) throw mismatch
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
    const work = mkdtempSync(join(dirname(target), `.${basename(target)}.restoring-`))
    try {
      const compaction = readCompaction(db)
      const alarms = [...db.entries(BUCKETS.alarm)].map(({ key }) => decodeAlarmMember(key))
      await importStore(work, {
        ...ids,
        changes: keyChanges(db),
        leases: leaseRecords(db),
        alarms,
        auth: readAuth(db),
        compactScheduled: compaction.scheduled,
        compactFinished: compaction.finished,
      }, { onThread: aside })
      const mismatch = await hashed
      if (mismatch) throw mismatch
      refuseExisting(opts.dataDir)
      renameSync(work, target)
      return ids
    } catch (err) {
      rmSync(work, { recursive: true, force: true })
      // a damaged file is named by its hash first, as etcdctl checks the hash before it reads the db
      throw (await hashed) ?? err
    }
  } finally {
    await hashed
    db.close()
  }
}

/** etcdctl refuses a data dir that exists; a file or a dangling link in its place gets its own words. */
function refuseExisting(dir: string): void {
  let st
  try {
    st = lstatSync(dir)
  } catch {
    return
  }
  if (st.isSymbolicLink() && !existsSync(dir)) {
    throw Errors.restoreRefused(`data-dir ${JSON.stringify(dir)} is a symbolic link to ${JSON.stringify(readlinkSync(dir))}, which does not exist`)
  }
  if (!st.isDirectory() && !st.isSymbolicLink()) throw Errors.restoreRefused(`data-dir ${JSON.stringify(dir)} exists and is not a directory`)
  throw Errors.restoreRefused(`data-dir ${JSON.stringify(dir)} exists`)
}

/**
 * The snapshot with its sha256 trailer checked, as etcdctl's restore does (without `matchTrailer`, only
 * that it has one: the caller matches it with trailerMismatch). Every page the restore reads is checked as it
 * is read (bbolt's full tx.Check, of pages nobody reads too, is status's).
 */
export function openChecked(file: string, skipHashCheck: boolean, { matchTrailer = true } = {}): BoltFile {
  const db = BoltFile.open(file)
  try {
    if (!skipHashCheck) {
      if (!db.hasTrailer) throw Errors.snapshotInvalid(`${file}: snapshot missing hash but --skip-hash-check=false`)
      if (matchTrailer && !db.trailerMatches()) throw hashMismatch(file)
    }
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

const hashMismatch = (file: string) => Errors.snapshotInvalid(`${file}: sha256 mismatch: the snapshot is damaged or incomplete`)

/** The error that `db`'s trailer does not match its bytes (hashed on another thread when `aside`), or undefined when it does. */
async function trailerMismatch(db: BoltFile, file: string, aside: boolean): Promise<EtcdError | undefined> {
  try {
    return (aside ? await db.trailerMatchesAside() : db.trailerMatches()) ? undefined : hashMismatch(file)
  } catch (err) {
    return err instanceof EtcdError ? err : Errors.snapshotInvalid(`${file}: ${(err as Error).message}`)
  }
}

/**
 * The `key` bucket's records in revision order, each decoded and checked against its revision (key and
 * value are views of the page they were read from).
 */
export function* keyChanges(db: BoltFile): Generator<{ main: number; sub: number; change: StoredChange }> {
  let last = { main: 0, sub: 0 }
  for (const { key, value } of db.entries(BUCKETS.key)) {
    const rev = decodeRevKey(key)
    const kv = decodeKeyValue(value)
    const at = `${db.path}: revision ${rev.main}/${rev.sub}`
    if (kv.key.length === 0) throw Errors.snapshotInvalid(`${at} has no key`)
    if (rev.main < 1) throw Errors.snapshotInvalid(`${at} is below revision 1`)
    // the bucket's keys rise, but a revision may be there both as a change and as a tombstone
    if (rev.main === last.main && rev.sub === last.sub) throw Errors.snapshotInvalid(`${at} is there twice`)
    last = rev
    if (rev.tombstone) {
      yield { ...rev, change: { tombstone: true, kv: { ...kv, value: Buffer.alloc(0), createRevision: 0, version: 0, lease: 0n, modRevision: rev.main } } }
      continue
    }
    if (kv.modRevision !== rev.main) throw Errors.snapshotInvalid(`${at} holds a record of revision ${kv.modRevision}`)
    if (kv.createRevision < 1 || kv.createRevision > rev.main || kv.version < 1) {
      throw Errors.snapshotInvalid(`${at}: create revision ${kv.createRevision} and version ${kv.version} do not fit`)
    }
    yield { ...rev, change: { tombstone: false, kv } }
  }
}

/** The `lease` bucket's leases, each decoded and checked against its key. */
export function* leaseRecords(db: BoltFile): Generator<{ id: bigint; ttl: number }> {
  for (const { key, value } of db.entries(BUCKETS.lease)) {
    const lease = decodeLease(value)
    if (key.length !== 8 || key.readBigInt64BE() !== lease.id) throw Errors.snapshotInvalid(`${db.path}: lease ${key.toString('hex')} holds lease ${lease.id}`)
    if (lease.ttl > MAX_LEASE_TTL) throw Errors.snapshotInvalid(`${db.path}: lease ${lease.id} has TTL ${lease.ttl}`)
    yield lease
  }
}
