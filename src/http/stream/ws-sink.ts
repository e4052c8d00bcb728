import type { Duplex } from 'node:stream'
import { WebSocket } from 'ws'
import type { SplitLine, StreamLine } from '../codec/envelope.js'
import type { MessageSink } from './message-sink.js'

/**
 * Each response message is one text frame, without the stream's newline (grpc-websocket-proxy).
 *
 * A watch event shared by thousands of sockets is one Buffer (see codec/watch.ts), and the frame around
 * it is the same bytes for each of them (server frames are unmasked): the frame is built once per line
 * and written to each socket as it is, rather than framed again per socket by `ws`. A split line's
 * frame is its own header and head, then the shared tail itself (two writes, one writev): a paused
 * socket holds a reference to the tail, not a copy. Writing next to `ws` on its socket is safe because
 * every frame is written within one synchronous call, as each of `ws`'s is: no compression is
 * negotiated (then ws would queue behind deflate), nothing is sent fragmented, and no Blob is sent. A
 * socket with an extension negotiated goes through `ws.send`.
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

  send(line: StreamLine): void {
    if (this.socket.readyState !== WebSocket.OPEN) return
    if (Buffer.isBuffer(line)) {
      if (this.raw) this.raw.write(textFrame(line))
      else this.socket.send(line.subarray(0, line.length - 1), { binary: false })
    } else if (this.raw) {
      this.raw.cork()
      this.raw.write(frameStart(line))
      this.raw.write(payloadOf(line.tail))
      this.raw.uncork()
    } else {
      this.socket.send(Buffer.concat([line.head, payloadOf(line.tail)]), { binary: false })
    }
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
const payloads = new WeakMap<Buffer, Buffer>()

/** The unmasked, unfragmented text frame (RFC 6455 §5.2) carrying `line` without its newline. */
function textFrame(line: Buffer): Buffer {
  let frame = frames.get(line)
  if (frame) return frame
  const length = line.length - 1
  const size = headerSize(length)
  frame = Buffer.allocUnsafe(size + length)
  writeHeader(frame, length)
  line.copy(frame, size, 0, length)
  frames.set(line, frame)
  return frame
}

/** A split line's frame up to its tail: the frame header and the line's head. */
function frameStart(line: SplitLine): Buffer {
  const length = line.head.length + line.tail.length - 1
  const size = headerSize(length)
  const start = Buffer.allocUnsafe(size + line.head.length)
  writeHeader(start, length)
  line.head.copy(start, size)
  return start
}

/** A shared tail without its newline: the same view for every socket. */
function payloadOf(tail: Buffer): Buffer {
  let payload = payloads.get(tail)
  if (!payload) payloads.set(tail, (payload = tail.subarray(0, tail.length - 1)))
  return payload
}

const headerSize = (length: number) => (length < 126 ? 2 : length < 65536 ? 4 : 10)

/** FIN, opcode 1 (text), no mask, and the payload length in its shortest encoding. */
function writeHeader(frame: Buffer, length: number): void {
  frame[0] = 0x81
  if (length < 126) frame[1] = length
  else if (length < 65536) {
    frame[1] = 126
    frame.writeUInt16BE(length, 2)
  } else {
    frame[1] = 127
    frame.writeBigUInt64BE(BigInt(length), 2)
  }
}
