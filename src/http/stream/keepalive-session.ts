/**
 * One client's lease keepalive stream: each request message gets one response, in request order. As
 * etcd's stream reads the next request only after answering the last, the next message waits for the
 * answer (HTTP/2 flow control holds etcd's clients back; here the stream stops reading them).
 */
import type { Lease } from '../../backend/backend.js'
import { type EtcdError, etcdErrorOf } from '../../errors.js'
import { encoders } from '../codec/codecs.js'
import { resultLine } from '../codec/envelope.js'
import type { MessageSink } from './message-sink.js'
import type { BudgetedStream, BudgetEntry, SendBudget } from './send-budget.js'

export class KeepAliveSession implements BudgetedStream {
  private closed = false
  private readonly budgeted: BudgetEntry

  constructor(
    private readonly lease: Lease,
    private readonly sink: MessageSink,
    private readonly budget: SendBudget,
    /** A backend failure, or the budget shedding the stream, ends it. */
    private readonly onError: (err: EtcdError) => void,
  ) {
    this.budgeted = budget.add(this)
  }

  /** Renews the lease and answers; resolves once answered (or failed: the stream is then over). */
  async request(id: bigint): Promise<void> {
    if (this.closed) return
    try {
      const response = await this.lease.keepAlive(id)
      if (this.closed) return
      this.budget.note(this.budgeted, this.sink.bufferedBytes())
      if (!this.closed) this.sink.send(resultLine(encoders.LeaseKeepAliveResponse(response)))
    } catch (err) {
      this.shed(etcdErrorOf(err))
    }
  }

  bufferedBytes(): number {
    return this.sink.bufferedBytes()
  }

  shed(why: EtcdError): boolean {
    if (this.closed) return false
    this.close()
    this.onError(why)
    return true
  }

  close(): void {
    this.closed = true
    this.budget.remove(this.budgeted)
  }
}
