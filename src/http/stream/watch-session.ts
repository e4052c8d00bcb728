/**
 * One client's watch stream (one WebSocket or one POST /v3/watch): requests go to the backend's watch
 * stream, responses go out encoded. A client that does not read fast enough loses its watches instead
 * of making the server buffer without bound: past its own limit, or when the server's budget for all
 * streams runs out and it is among the slowest.
 */
import type { ResponseHeader, Watch, WatchRequest, WatchResponse, WatchStream } from '../../backend/backend.js'
import { watchResponse } from '../../backend/watch-stream.js'
import type { EtcdError } from '../../errors.js'
import type { BytesCodec } from '../codec/bytes-codec.js'
import { watchResultLine } from '../codec/watch.js'
import type { MessageSink } from './message-sink.js'
import type { StreamLimits } from './request-messages.js'
import type { BudgetedStream, BudgetEntry } from './send-budget.js'

export class WatchSession implements BudgetedStream {
  private stream: WatchStream | undefined
  /** The last response's header, for the cancels this session makes itself. */
  private header: ResponseHeader | undefined
  private readonly budgeted: BudgetEntry

  constructor(
    private readonly watch: Watch,
    private readonly sink: MessageSink,
    private readonly limits: StreamLimits,
    /** How keys and values look on this stream (?encoding=utf8 on its URL). */
    readonly codec: BytesCodec,
  ) {
    this.budgeted = limits.budget.add(this)
  }

  request(req: WatchRequest): void {
    this.stream ??= this.watch.open((resp) => this.respond(resp))
    this.stream.send(req)
  }

  /** The client is gone. */
  close(): void {
    this.limits.budget.remove(this.budgeted)
    this.stream?.close()
    this.stream = undefined
  }

  bufferedBytes(): number {
    return this.sink.bufferedBytes()
  }

  shed(why: EtcdError): boolean {
    return this.cancelAll(why.message)
  }

  private respond(resp: WatchResponse): void {
    this.header = resp.header
    if (resp.events.length !== 0) {
      const buffered = this.sink.bufferedBytes()
      if (buffered > this.limits.sendBufferBytes) {
        this.cancelAll(
          `etcdgw: watch canceled: more than ${this.limits.sendBufferBytes} bytes are waiting to be sent to this client ` +
            '(--watch-send-buffer-bytes); read faster or watch less',
        )
        return
      }
      this.limits.budget.note(this.budgeted, buffered)
      // shed by the budget just now
      if (this.stream === undefined) return
    }
    this.sink.send(watchResultLine(resp, this.codec))
  }

  /**
   * Cancels every watch with a reason; the stream itself stays usable, later creates open a fresh
   * backend stream. False when no watch was live.
   */
  private cancelAll(cancelReason: string): boolean {
    const ids = [...(this.stream?.liveWatchIds ?? [])]
    this.stream?.close()
    this.stream = undefined
    for (const watchId of ids) {
      this.sink.send(watchResultLine(watchResponse(this.header!, watchId, { canceled: true, cancelReason }), this.codec))
    }
    return ids.length > 0
  }
}
