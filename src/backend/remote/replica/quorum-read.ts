/** etcd's ReadIndex batching for the replica: one quorum read in flight serves every read that arrived before it was sent. */
import * as convert from '../convert.js'
import type { EndpointPool } from '../endpoint-pool.js'
import type { PbRangeResponse } from '../messages.js'

export interface QuorumAnswer {
  /** The cluster's revision when the quorum read was served. */
  revision: number
  clusterId: bigint
  /** The replica's revision when the read was sent: the cluster cannot be below it unless its history changed. */
  appliedBefore: number
}

/** The cheapest linearizable request: a count of one key. */
const PROBE = { key: Buffer.from([0]), count_only: true }

/**
 * Event-loop turns a batch stays open once it could be sent: the requests already read from sockets in
 * those turns join it. Each quorum read costs etcd and the gateway far more CPU than answering from the
 * replica, so on busy cores bigger batches serve more reads (at 10 connections, about 1.5× more than
 * sending at once, measured with the machine's cores shared); on idle ones the turns take microseconds.
 * Turns past three gained nothing more.
 */
const GATHER_TURNS = 3

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * A read may use only a quorum read sent after it arrived. Reads join the next batch, which is sent
 * once the one in flight settles and GATHER_TURNS have passed, and serves all of them. (Sending a second
 * one while the first is in flight served fewer reads: twice the quorum reads on the same cores.)
 */
export class QuorumRead {
  private inFlight: Promise<QuorumAnswer> | undefined
  private next: Promise<QuorumAnswer> | undefined

  constructor(
    private readonly pool: EndpointPool,
    private readonly appliedRev: () => number,
  ) {}

  read(): Promise<QuorumAnswer> {
    this.next ??= this.sendNext()
    return this.next
  }

  private async sendNext(): Promise<QuorumAnswer> {
    await this.inFlight?.catch(() => undefined)
    for (let turn = 0; turn < GATHER_TURNS; turn++) await nextTurn()
    this.next = undefined
    return this.send()
  }

  private send(): Promise<QuorumAnswer> {
    const appliedBefore = this.appliedRev()
    const sent = this.pool.call<PbRangeResponse>('KV', 'Range', PROBE, 'read').then((res) => {
      const header = convert.header(res.header)
      return { revision: header.revision, clusterId: header.clusterId, appliedBefore }
    })
    this.inFlight = sent
    const done = () => {
      if (this.inFlight === sent) this.inFlight = undefined
    }
    sent.then(done, done)
    return sent
  }
}
