/**
 * A streaming RPC counted in etcd's gRPC metrics: it starts when the stream opens (etcd's gateway opens
 * its gRPC stream before it reads a message), each message each way is counted, and a stream its client
 * leaves ends as Canceled, as etcd counts it.
 */
import { GrpcCode } from '../../errors.js'
import { lineLength, type StreamLine } from '../codec/envelope.js'
import type { RpcCall } from '../grpc-metrics.js'
import type { MessageSink } from './message-sink.js'

/** Counts each message sent (its bytes without the newline) on the way to `inner`. */
export class CountedSink implements MessageSink {
  constructor(
    private readonly inner: MessageSink,
    private readonly call: RpcCall,
  ) {}

  send(line: StreamLine): void {
    this.call.sent(lineLength(line) - 1)
    this.inner.send(line)
  }

  bufferedBytes(): number {
    return this.inner.bufferedBytes()
  }

  onDrain(fn: () => void): void {
    this.inner.onDrain(fn)
  }
}

/** `session`, ending the call when it closes (a call already ended with another code keeps that one). */
export function countedSession(session: { close(): void }, call: RpcCall): { close(): void } {
  return {
    close() {
      call.end(GrpcCode.Canceled)
      session.close()
    },
  }
}
