import type { StreamLine } from '../codec/envelope.js'

/** Where a stream's response messages go: an HTTP chunked response or a WebSocket. */
export interface MessageSink {
  /** Sends one `{"result":…}\n` line (WebSocket frames drop the newline). Its Buffers may be shared: never modify them. */
  send(line: StreamLine): void
  /** Bytes accepted by send() and not yet handed to the network. */
  bufferedBytes(): number
  /** Calls `fn` once what is buffered has gone to the network (soon, when nothing waits). */
  onDrain(fn: () => void): void
}
