/**
 * A backup's verification: the sha256 trailer; every page (bbolt's check) and etcdctl's status hash; every
 * revision record and lease decoded and checked as a restore reads them.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { keyChanges, leaseRecords, openChecked } from '../snapshot/restore.js'
import { snapshotStatus } from '../snapshot/status.js'
import type { BackupRecord } from './backup-files.js'

export type Verified = Pick<BackupRecord, 'revision' | 'totalKey' | 'totalSize' | 'hash' | 'sha256' | 'fileBytes'>

/** Throws Errors.snapshotInvalid naming what is wrong and where. */
export function verifySnapshotFile(path: string): Verified {
  const db = openChecked(path, false)
  let fileBytes: number
  try {
    fileBytes = db.fileBytes
    for (const _ of keyChanges(db));
    for (const _ of leaseRecords(db));
  } finally {
    db.close()
  }
  const status = snapshotStatus(path)
  return { revision: status.revision, totalKey: status.totalKey, totalSize: status.totalSize, hash: status.hash, sha256: trailer(path, fileBytes), fileBytes }
}

function trailer(path: string, fileBytes: number): string {
  const fd = openSync(path, 'r')
  try {
    const digest = Buffer.alloc(32)
    readSync(fd, digest, 0, 32, fileBytes - 32)
    return digest.toString('hex')
  } finally {
    closeSync(fd)
  }
}
