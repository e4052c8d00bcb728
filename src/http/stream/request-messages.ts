/**
 * The request side of a streaming RPC: JSON values from an HTTP request body or from WebSocket frames,
 * handed one by one to the RPC. etcd's gateway decodes the first message before the gRPC stream
 * exists, so its failure is an error response; what a later failure does depends on the transport.
 *
 * A client that sends without reading would make the server queue answers without bound: while the
 * responses waiting for it pass the limit, its messages wait and its connection is not read (etcd has
 * HTTP/2 flow control for this).
 */
import type { IncomingMessage } from 'node:http'
import type { WebSocket } from 'ws'
import { EtcdError } from '../../errors.js'
import { type JsonValue, ValueInParts } from '../codec/json.js'
import type { RequestLimits } from '../rpc.js'
import { JsonMessageReader, READ_AT_ONCE_BYTES, type ReadResult } from './json-message-reader.js'
import type { MessageSink } from './message-sink.js'
import type { SendBudget } from './send-budget.js'
import type { TurnTaking } from '../../turn-taking.js'

export interface StreamLimits {
  /** --max-request-bytes: a message larger than gRPC's limit fails while it is still arriving. */
  readonly requests: RequestLimits
  /** --watch-send-buffer-bytes: unread response bytes past which the client's messages wait. */
  readonly sendBufferBytes: number
  /** --stream-send-budget-bytes: what all streams together may have waiting. */
  readonly budget: SendBudget
  /**
   * Large messages are read in parts, one message at a time server-wide: however many arrive together,
   * one half-read value is held at a time, as when each was read in one go.
   */
  readonly largeMessages: TurnTaking
}

export interface RequestMessages {
  /**
   * Decodes and acts on one message; throws an EtcdError when it does not decode. When it returns a
   * promise, the next message waits for it (it never rejects).
   */
  message(v: JsonValue): void | Promise<void>
  /** The first message did not decode (or the body was unreadable before it). */
  firstError(err: EtcdError): void
}

export interface HttpRequestMessages extends RequestMessages {
  /** No more messages will come: the body ended, or a later message failed (etcd half-closes silently). */
  end(): void
}

export interface WsRequestMessages extends RequestMessages {
  /** A later message did not decode; reading goes on with the next frame. */
  laterError(err: EtcdError): void
}

/**
 * One chunk or frame: read when its turn comes (a frame of tiny messages holds far more as values
 * than as bytes), then its values, and maybe the error that stopped reading it.
 */
interface Batch {
  readonly read: () => ReadResult
  values: ReadResult['values'] | undefined
  error: EtcdError | undefined
  next: number
  /** Runs once the batch is through without an error. */
  readonly then?: () => void
}

const nothing = () => {}

/** Messages of one stream handled in one go before the event loop serves others. */
const MESSAGES_PER_TURN = 1000

/**
 * Hands the batches' values to the RPC in order. While the client is behind on reading, or a message is
 * still being answered with more frames behind it, the source is paused and the values wait.
 */
class MessageQueue {
  private batches: Batch[] = []
  private first = true
  /** waiting for the client to read, or for an answer */
  private waiting = false
  private paused = false
  private stopped = false
  /** Messages handled since this stream last let the event loop serve others (answers chain as microtasks). */
  private handled = 0

  constructor(
    private readonly source: { pause(): void; resume(): void },
    private readonly sink: MessageSink,
    private readonly maxBufferedBytes: number,
    private readonly largeMessages: TurnTaking,
    private readonly on: RequestMessages,
    /** A later error; returns whether to go on with the next batch. */
    private readonly later: (err: EtcdError) => boolean,
    /** No more messages will be handed over. */
    private readonly onStop: () => void = nothing,
  ) {}

  add(read: () => ReadResult, then?: () => void): void {
    if (this.stopped) return
    this.batches.push({ read, values: undefined, error: undefined, next: 0, then })
    if (!this.waiting) this.run()
    else if (this.batches.length > 1) this.pause()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.batches.length = 0
    this.onStop()
  }

  private run(): void {
    while (this.batches.length > 0 && !this.stopped) {
      const batch = this.batches[0]!
      if (batch.values === undefined) ({ values: batch.values, error: batch.error } = batch.read())
      while (batch.error === undefined && batch.next < batch.values.length) {
        if (this.sink.bufferedBytes() > this.maxBufferedBytes) return this.waitForDrain()
        // one frame can hold 100,000 messages: let other clients in between slices of them
        if (++this.handled > MESSAGES_PER_TURN) return this.waitForTurn()
        const v = batch.values[batch.next]!
        if (v instanceof ValueInParts) return this.readInParts(v, batch)
        batch.next++
        let answered: void | Promise<void>
        try {
          answered = this.on.message(v)
        } catch (err) {
          if (!(err instanceof EtcdError)) throw err
          batch.error = err
          break
        }
        this.first = false
        if (answered !== undefined) return this.waitFor(answered)
      }
      this.batches.shift()
      if (batch.error === undefined) {
        batch.then?.()
        continue
      }
      if (this.first) {
        this.stop()
        this.on.firstError(batch.error)
      } else if (!this.later(batch.error)) {
        this.stop()
      }
    }
    // an idle stream keeps no queue storage (thousands of watch streams sit idle)
    this.batches = []
    if (this.paused && !this.stopped) {
      this.paused = false
      this.source.resume()
    }
  }

  private pause(): void {
    if (this.paused) return
    this.paused = true
    this.source.pause()
  }

  private waitFor(answered: Promise<void>): void {
    this.waiting = true
    if (this.batches.length > 1) this.pause()
    void answered.then(() => this.go())
  }

  /** Reads a large message a part per turn of the event loop; once it is whole, it is handled in its place. */
  private readInParts(parts: ValueInParts, batch: Batch): void {
    this.waiting = true
    this.pause()
    const read = this.largeMessages.take(async () => {
      for (;;) {
        await new Promise((resolve) => setImmediate(resolve))
        if (this.stopped) return undefined
        const v = parts.readOn(READ_AT_ONCE_BYTES)
        if (v !== undefined) return v
      }
    })
    void read.then((v) => {
      if (v === undefined) return
      batch.values![batch.next] = v
      this.handled = 0
      this.go()
    })
  }

  private waitForTurn(): void {
    this.waiting = true
    this.pause()
    setImmediate(() => {
      this.handled = 0
      this.go()
    })
  }

  private waitForDrain(): void {
    this.waiting = true
    this.pause()
    this.sink.onDrain(() => this.go())
  }

  private go(): void {
    this.waiting = false
    this.run()
  }
}

const newReader = (limits: StreamLimits) =>
  new JsonMessageReader(limits.requests.maxMessageBytes, (size) => limits.requests.messageTooLarge(size))

export function readHttpRequestMessages(
  req: IncomingMessage,
  sink: MessageSink,
  limits: StreamLimits,
  on: HttpRequestMessages,
): void {
  const reader = newReader(limits)
  const later = () => {
    on.end()
    return false
  }
  const queue = new MessageQueue(req, sink, limits.sendBufferBytes, limits.largeMessages, on, later, () => {
    req.removeListener('data', onData)
    req.removeListener('end', onEnd)
    // Keep draining so the connection stays usable; the bytes are not read any more.
    req.resume()
  })
  const onData = (chunk: Buffer) => queue.add(() => reader.push(chunk))
  const onEnd = () =>
    queue.add(() => reader.end(), () => {
      queue.stop()
      on.end()
    })
  req.on('data', onData)
  req.on('end', onEnd)
}

/** Each frame, text or binary, is appended to one JSON stream followed by a newline (grpc-websocket-proxy). */
export function readWsRequestMessages(socket: WebSocket, sink: MessageSink, limits: StreamLimits, on: WsRequestMessages): void {
  const reader = newReader(limits)
  const queue = new MessageQueue(socket, sink, limits.sendBufferBytes, limits.largeMessages, on, (err) => {
    // After a bad message, start afresh at the next frame (etcd stops reading the socket instead).
    reader.discard()
    on.laterError(err)
    return true
  })
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)
    queue.add(() => reader.pushFrame(chunk))
  })
}
