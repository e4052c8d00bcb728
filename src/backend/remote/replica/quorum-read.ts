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
 * A read may use only a quorum read sent after it arrived. While one is in flight, arriving reads wait
 * for the next, which is sent when the one in flight settles and then serves all of them.
 */
export class QuorumRead {
  private inFlight: Promise<QuorumAnswer> | undefined
  private next: Promise<QuorumAnswer> | undefined

  constructor(
    private readonly pool: EndpointPool,
    private readonly appliedRev: () => number,
  ) {}

  read(): Promise<QuorumAnswer> {
    if (this.inFlight === undefined) return this.send()
    this.next ??= this.inFlight.then(noop, noop).then(() => {
      this.next = undefined
      return this.send()
    })
    return this.next
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

const noop = () => undefined
