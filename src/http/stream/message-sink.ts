/** Where a stream's response messages go: an HTTP chunked response or a WebSocket. */
export interface MessageSink {
  /** Sends one `{"result":…}\n` line (WebSocket frames drop the newline). The Buffer may be shared: never modify it. */
  send(line: Buffer): void
  /** Bytes accepted by send() and not yet handed to the network. */
  bufferedBytes(): number
  /** Calls `fn` once what is buffered has gone to the network (soon, when nothing waits). */
  onDrain(fn: () => void): void
}
