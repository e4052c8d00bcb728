/**
 * One budget for the bytes every stream of the server has waiting for its client. Each stream is
 * bounded on its own (--watch-send-buffer-bytes), but thousands of paused clients, each under its own
 * bound, would still hold gigabytes. Past the budget the streams with most waiting are shed first
 * (their watches canceled, a keepalive stream ended), until the others fit in three quarters of it.
 * What a shed stream has waiting goes when its client reads, or with the client: the heartbeat drops
 * one that does not read.
 */
import { Errors, type EtcdError } from '../../errors.js'

/** A stream the budget may shed. */
export interface BudgetedStream {
  /** Bytes waiting for the client now. */
  bufferedBytes(): number
  /** Ends what sends to this client unasked (its watches, its stream), telling it why; false when nothing does. */
  shed(why: EtcdError): boolean
}

/** A stream with less than this waiting keeps up with what it is sent: it is never shed. */
const KEEPING_UP_BYTES = 16 * 1024
/** How often the exact count may run while the estimate is over the budget. */
const RECOUNT_INTERVAL_MS = 100

export class SendBudget {
  /** What each stream had waiting when last seen; their sum is `estimate`. */
  private readonly seen = new Map<BudgetedStream, number>()
  private estimate = 0
  private lastRecount = -Infinity
  /** The last exact count was over the budget, even after shedding (what shed streams hold counts until it goes). */
  private over = false

  constructor(readonly maxBytes: number) {}

  add(stream: BudgetedStream): void {
    this.seen.set(stream, 0)
  }

  remove(stream: BudgetedStream): void {
    this.estimate -= this.seen.get(stream) ?? 0
    this.seen.delete(stream)
  }

  /** `stream` has `buffered` bytes waiting (before what it sends now). Cheap: called for every message. */
  note(stream: BudgetedStream, buffered: number): void {
    const before = this.seen.get(stream)
    if (before === undefined) return
    this.seen.set(stream, buffered)
    this.estimate += buffered - before
    if (this.estimate <= this.maxBytes) return
    // the estimate misses what drained from streams that sent nothing since: count exactly before acting
    const now = performance.now()
    if (now - this.lastRecount >= RECOUNT_INTERVAL_MS) {
      this.lastRecount = now
      this.enforce()
    } else if (this.over && buffered >= KEEPING_UP_BYTES) {
      // until the next count, a stream falling behind is shed as it shows
      stream.shed(Errors.sendBudgetExceeded(this.maxBytes))
    }
  }

  private enforce(): void {
    let total = 0
    for (const stream of this.seen.keys()) {
      const buffered = stream.bufferedBytes()
      this.seen.set(stream, buffered)
      total += buffered
    }
    this.estimate = total
    this.over = total > this.maxBytes
    if (!this.over) return
    const why = Errors.sendBudgetExceeded(this.maxBytes)
    const slowestFirst = [...this.seen].sort((a, b) => b[1] - a[1])
    for (const [stream, buffered] of slowestFirst) {
      if (total <= (this.maxBytes * 3) / 4 || buffered < KEEPING_UP_BYTES) break
      if (stream.shed(why)) total -= buffered
    }
  }
}
