import type { Duplex } from 'node:stream'
import { WebSocket } from 'ws'
import type { MessageSink } from './message-sink.js'

/**
 * Each response message is one text frame, without the stream's newline (grpc-websocket-proxy).
 *
 * A watch event shared by thousands of sockets is one Buffer (see codec/watch.ts), and the frame around
 * it is the same bytes for each of them (server frames are unmasked): the frame is built once per line
 * and written to each socket as it is, rather than framed again per socket by `ws`. Writing next to
 * `ws` on its socket is safe because every frame it writes is one whole synchronous write too: no
 * compression is negotiated (then ws would queue behind deflate), nothing is sent fragmented, and no
 * Blob is sent. A socket with an extension negotiated goes through `ws.send`.
 */
export class WsSink implements MessageSink {
  private readonly raw: Duplex | undefined

  /** `connection` is the one the WebSocket runs on (the upgrade request's socket). */
  constructor(
    private readonly socket: WebSocket,
    private readonly connection: Duplex,
  ) {
    this.raw = socket.extensions === '' ? connection : undefined
  }

  send(line: Buffer): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (this.raw) this.raw.write(textFrame(line))
    else this.socket.send(line.subarray(0, line.length - 1), { binary: false })
  }

  bufferedBytes(): number {
    return this.socket.bufferedAmount
  }

  onDrain(fn: () => void): void {
    // every frame, ours or ws's, is written to the connection
    if (this.connection.writableNeedDrain) this.connection.once('drain', fn)
    else setImmediate(fn)
  }
}

const frames = new WeakMap<Buffer, Buffer>()

/** The unmasked, unfragmented text frame (RFC 6455 §5.2) carrying `line` without its newline. */
function textFrame(line: Buffer): Buffer {
  let frame = frames.get(line)
  if (frame) return frame
  const length = line.length - 1
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10
  frame = Buffer.allocUnsafe(head + length)
  frame[0] = 0x81 // FIN, opcode 1 (text)
  if (head === 2) frame[1] = length
  else if (head === 4) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
  line.copy(frame, head, 0, length)
  frames.set(line, frame)
  return frame
}
