import { WebSocket } from 'ws'
import type { MessageSink } from './message-sink.js'

/** Each response message is one text frame, without the stream's newline (grpc-websocket-proxy). */
export class WsSink implements MessageSink {
  constructor(private readonly socket: WebSocket) {}

  send(line: Buffer): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    this.socket.send(line.subarray(0, line.length - 1), { binary: false })
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount
  }
}
