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

/** A stream in the budget, with what it had waiting when last seen. */
export interface BudgetEntry {
  readonly stream: BudgetedStream
  seen: number
}

export class SendBudget {
  /** The streams; the sum of what they had waiting when last seen is `estimate`. */
  private readonly entries = new Set<BudgetEntry>()
  private estimate = 0
  private lastRecount = -Infinity
  /** The last exact count was over the budget, even after shedding (what shed streams hold counts until it goes). */
  private over = false

  constructor(readonly maxBytes: number) {}

  add(stream: BudgetedStream): BudgetEntry {
    const entry = { stream, seen: 0 }
    this.entries.add(entry)
    return entry
  }

  remove(entry: BudgetEntry): void {
    if (!this.entries.delete(entry)) return
    this.estimate -= entry.seen
    entry.seen = 0
  }

  /**
   * The entry's stream has `buffered` bytes waiting (before what it sends now); never after `remove`.
   * Cheap: called for every message.
   */
  note(entry: BudgetEntry, buffered: number): void {
    this.estimate += buffered - entry.seen
    entry.seen = buffered
    if (this.estimate <= this.maxBytes) return
    // the estimate misses what drained from streams that sent nothing since: count exactly before acting
    const now = performance.now()
    if (now - this.lastRecount >= RECOUNT_INTERVAL_MS) {
      this.lastRecount = now
      this.enforce()
    } else if (this.over && buffered >= KEEPING_UP_BYTES) {
      // until the next count, a stream falling behind is shed as it shows
      entry.stream.shed(Errors.sendBudgetExceeded(this.maxBytes))
    }
  }

  private enforce(): void {
    let total = 0
    for (const entry of this.entries) {
      entry.seen = entry.stream.bufferedBytes()
      total += entry.seen
    }
    this.estimate = total
    this.over = total > this.maxBytes
    if (!this.over) return
    const why = Errors.sendBudgetExceeded(this.maxBytes)
    const slowestFirst = [...this.entries].sort((a, b) => b.seen - a.seen)
    for (const { stream, seen } of slowestFirst) {
      if (total <= (this.maxBytes * 3) / 4 || seen < KEEPING_UP_BYTES) break
      if (stream.shed(why)) total -= seen
    }
  }
}
