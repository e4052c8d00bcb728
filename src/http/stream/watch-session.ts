/**
 * One client's watch stream (one WebSocket or one POST /v3/watch): requests go to the backend's watch
 * stream, responses go out encoded. A client that does not read fast enough loses its watches instead
 * of making the server buffer without bound.
 */
import type { Watch, WatchRequest, WatchResponse, WatchStream } from '../../backend/backend.js'
import type { BytesCodec } from '../codec/bytes-codec.js'
import { watchResultLine } from '../codec/watch.js'
import type { MessageSink } from './message-sink.js'

export class WatchSession {
  private stream: WatchStream | undefined

  constructor(
    private readonly watch: Watch,
    private readonly sink: MessageSink,
    /** --watch-send-buffer-bytes */
    private readonly sendBufferBytes: number,
    /** How keys and values look on this stream (?encoding=utf8 on its URL). */
    readonly codec: BytesCodec,
  ) {}

  request(req: WatchRequest): void {
    this.stream ??= this.watch.open((resp) => this.respond(resp))
    this.stream.send(req)
  }

  close(): void {
    this.stream?.close()
    this.stream = undefined
  }

  private respond(resp: WatchResponse): void {
    if (resp.events.length !== 0 && this.sink.bufferedBytes() > this.sendBufferBytes) return this.overflow(resp)
    this.sink.send(watchResultLine(resp, this.codec))
  }

  /**
   * Cancels every watch with a reason naming the limit; the stream itself stays usable, later creates
   * open a fresh backend stream.
   */
  private overflow(resp: WatchResponse): void {
    const ids = [...(this.stream?.liveWatchIds ?? [])]
    this.close()
    const cancelReason =
      `etcdgw: watch canceled: more than ${this.sendBufferBytes} bytes are waiting to be sent to this client ` +
      '(--watch-send-buffer-bytes); read faster or watch less'
    for (const watchId of ids) {
      this.sink.send(
        watchResultLine(
          { ...resp, watchId, events: [], created: false, canceled: true, compactRevision: 0, cancelReason },
          this.codec,
        ),
      )
    }
  }
}
