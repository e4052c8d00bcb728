import { createHash, randomBytes } from 'node:crypto'
import { open as openFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AlarmAction,
  type AlarmRequest,
  type AlarmResponse,
  type HashResponse,
  type Maintenance,
  type ResponseHeader,
  type SnapshotChunk,
  type StatusResponse,
} from '../backend.js'
import { Errors } from '../../errors.js'
import { ETCD_SERVER_VERSION } from '../../version.js'
import type { AlarmStore } from './alarm-store.js'
import type { MvccStore } from './mvcc-store.js'
import { storeHash } from './store-hash.js'

/** etcd's snapshot chunk size. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024

/** etcd's Maintenance service on the single-member embedded store: it is always its own leader. */
export class EmbeddedMaintenance implements Maintenance {
  constructor(
    private readonly store: MvccStore,
    private readonly alarms: AlarmStore,
    /** A folder only this user can open (the member folder), for snapshot copies while they are sent. */
    private readonly privateDir: string,
    private readonly header: (revision: number) => ResponseHeader,
  ) {}

  async alarm(req: AlarmRequest): Promise<AlarmResponse> {
    switch (req.action) {
      case AlarmAction.GET:
        return { alarms: this.alarms.list(req.alarm) }
      case AlarmAction.ACTIVATE:
        return { alarms: [await this.alarms.activate(req.memberId, req.alarm)] }
      case AlarmAction.DEACTIVATE: {
        const cleared = await this.alarms.deactivate(req.memberId, req.alarm)
        return { alarms: cleared ? [cleared] : [] }
      }
      default:
        throw Errors.unknownAlarmAction(req.action as number)
    }
  }

  async status(): Promise<StatusResponse> {
    const rev = this.store.committedRev
    return {
      header: this.header(rev),
      version: ETCD_SERVER_VERSION,
      dbSize: this.store.fileSize(),
      dbSizeInUse: this.store.sizeInUse(),
      leader: this.store.memberId,
      // no raft log here: the applied requests stand for its entries (a refused write makes none)
      raftIndex: this.store.appliedIndex,
      raftTerm: this.store.raftTerm,
      raftAppliedIndex: this.store.appliedIndex,
      errors: this.alarms.describe(),
      isLearner: false,
    }
  }

  async hash(): Promise<HashResponse> {
    const rev = this.store.committedRev
    const hash = storeHash(this.store)
    return { header: this.header(rev), hash }
  }

  async defragment(): Promise<void> {
    await this.store.defragment()
  }

  async *snapshot(): AsyncGenerator<SnapshotChunk> {
    const path = join(this.privateDir, `snapshot-${randomBytes(6).toString('hex')}.mdb`)
    try {
      await this.store.copyTo(path)
      const file = await openFile(path, 'r')
      try {
        const total = (await file.stat()).size
        const sha = createHash('sha256')
        let sent = 0
        while (sent < total) {
          const blob = Buffer.alloc(Math.min(SNAPSHOT_CHUNK_BYTES, total - sent))
          const { bytesRead } = await file.read(blob, 0, blob.length, sent)
          if (bytesRead !== blob.length) throw Errors.snapshotShrank()
          sent += bytesRead
          sha.update(blob)
          yield { remainingBytes: total - sent, blob }
        }
        yield { remainingBytes: 0, blob: sha.digest() }
      } finally {
        await file.close()
      }
    } finally {
      await rm(path, { force: true })
    }
  }

  async moveLeader(targetId: bigint): Promise<void> {
    if (targetId !== this.store.memberId) throw Errors.badLeaderTransferee()
  }
}
