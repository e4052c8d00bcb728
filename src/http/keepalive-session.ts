/** One client's lease keepalive stream: each request message gets one response, in request order. */
import type { Lease } from '../backend/backend.js'
import { EtcdError, GrpcCode } from '../errors.js'
import { encodeLeaseKeepAliveResponse } from './codec/lease.js'
import { resultLine } from './codec/watch.js'
import type { MessageSink } from './stream/message-sink.js'

export class KeepAliveSession {
  private pending: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly lease: Lease,
    private readonly sink: MessageSink,
    /** A backend failure ends the stream. */
    private readonly onError: (err: EtcdError) => void,
  ) {}

  request(id: bigint): void {
    this.pending = this.pending.then(async () => {
      if (this.closed) return
      try {
        const response = await this.lease.keepAlive(id)
        if (!this.closed) this.sink.send(resultLine(encodeLeaseKeepAliveResponse(response)))
      } catch (err) {
        this.close()
        this.onError(err instanceof EtcdError ? err : new EtcdError(GrpcCode.Unknown, String(err)))
      }
    })
  }

  /** Resolves once every request so far has been answered. */
  drained(): Promise<void> {
    return this.pending
  }

  close(): void {
    this.closed = true
  }
}
