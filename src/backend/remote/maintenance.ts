import type { AlarmRequest, AlarmResponse, HashResponse, Maintenance, SnapshotChunk, StatusResponse } from '../backend.js'
import { header, idOut } from './convert.js'
import type { Calls } from './endpoint-pool.js'
import { toEtcdError } from './errors.js'
import type { PbAlarmResponse, PbFullStatusResponse, PbHashResponse, PbHeaderOnly, PbSnapshotResponse } from './messages.js'

/**
 * etcd's Maintenance service, forwarded. Status, hash and defragment answer for the member the pool
 * uses (as etcd's own gateway answers for its member); transfers go to the leader.
 */
export class RemoteMaintenance implements Maintenance {
  constructor(private readonly pool: Calls) {}

  async alarm(req: AlarmRequest): Promise<AlarmResponse> {
    const pb = { action: req.action, memberID: idOut(BigInt.asUintN(64, req.memberId)), alarm: req.alarm }
    const res = await this.pool.call<PbAlarmResponse>('Maintenance', 'Alarm', pb, req.action === 0 ? 'read' : 'write')
    return { alarms: res.alarms.map((a) => ({ memberId: BigInt(a.memberID), alarm: a.alarm })) }
  }

  async status(): Promise<StatusResponse> {
    const res = await this.pool.call<PbFullStatusResponse>('Maintenance', 'Status', {}, 'serializable')
    return {
      header: header(res.header),
      version: res.version,
      dbSize: Number(res.dbSize),
      dbSizeInUse: Number(res.dbSizeInUse),
      leader: BigInt(res.leader),
      raftIndex: Number(res.raftIndex),
      raftTerm: Number(res.raftTerm),
      raftAppliedIndex: Number(res.raftAppliedIndex),
      errors: res.errors,
      isLearner: res.isLearner,
    }
  }

  async hash(): Promise<HashResponse> {
    const res = await this.pool.call<PbHashResponse>('Maintenance', 'Hash', {}, 'serializable')
    return { header: header(res.header), hash: res.hash }
  }

  async defragment(): Promise<void> {
    await this.pool.call<PbHeaderOnly>('Maintenance', 'Defragment', {}, 'serializable')
  }

  /** etcd's own stream, message by message: only one chunk is held at a time. */
  async *snapshot(): AsyncGenerator<SnapshotChunk> {
    const stream = this.pool.serverStream<PbSnapshotResponse>('Maintenance', 'Snapshot', {})
    try {
      for await (const msg of stream as AsyncIterable<PbSnapshotResponse>) {
        yield { remainingBytes: Number(msg.remaining_bytes), blob: msg.blob }
      }
    } catch (err) {
      throw toEtcdError(err)
    } finally {
      stream.cancel()
    }
  }

  async moveLeader(targetId: bigint): Promise<void> {
    await this.pool.call<PbHeaderOnly>('Maintenance', 'MoveLeader', { targetID: idOut(BigInt.asUintN(64, targetId)) }, 'write')
  }
}
