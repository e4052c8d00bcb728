/** One client's lease keepalive stream: each request message gets one response, in request order. */
import type { Lease } from '../backend/backend.js'
import { Errors, EtcdError, etcdErrorOf } from '../errors.js'
import { encoders } from './codec/codecs.js'
import { resultLine } from './codec/watch.js'
import type { MessageSink } from './stream/message-sink.js'

/**
 * Requests one stream may have waiting for their answer. etcd's gRPC stream reads the next request only
 * after answering the last (HTTP/2 flow control holds the rest back); one JSON chunk or frame can carry
 * any number of requests, so past this the stream fails instead of queueing without bound.
 */
export const MAX_PENDING_KEEPALIVES = 10_000

export class KeepAliveSession {
  private pending: Promise<void> = Promise.resolve()
  private waiting = 0
  private closed = false

  constructor(
    private readonly lease: Lease,
    private readonly sink: MessageSink,
    /** A backend failure ends the stream. */
    private readonly onError: (err: EtcdError) => void,
  ) {}

  request(id: bigint): void {
    if (this.closed) return
    if (this.waiting === MAX_PENDING_KEEPALIVES) return this.fail(Errors.tooManyRequests())
    this.waiting++
    this.pending = this.pending.then(async () => {
      this.waiting--
      if (this.closed) return
      try {
        const response = await this.lease.keepAlive(id)
        if (!this.closed) this.sink.send(resultLine(encoders.LeaseKeepAliveResponse(response)))
      } catch (err) {
        this.fail(etcdErrorOf(err))
      }
    })
  }

  private fail(err: EtcdError): void {
    this.close()
    this.onError(err)
  }

  /** Resolves once every request so far has been answered. */
  drained(): Promise<void> {
    return this.pending
  }

  close(): void {
    this.closed = true
  }
}
