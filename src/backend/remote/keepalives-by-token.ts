/**
 * The lease keepalives of callers with tokens: one upstream LeaseKeepAlive stream per token, so each
 * goes to etcd with its opener's token and identities never share a stream. A token's stream closes
 * once no keepalive has used it for a while (clients renew every third of a lease's TTL).
 */
import type { LeaseKeepAliveResponse } from '../backend.js'
import type { EndpointPool } from './endpoint-pool.js'
import { KeepAliveStream } from './keepalive-stream.js'

const MIN_IDLE_MS = 60_000

interface Held {
  stream: KeepAliveStream
  timer: NodeJS.Timeout
}

export type KeepAlives = Pick<KeepAliveStream, 'keepAlive'>

export class KeepAlivesByToken {
  private readonly byToken = new Map<string, Held>()
  private readonly idleMs: number

  constructor(private readonly pool: EndpointPool) {
    this.idleMs = Math.max(MIN_IDLE_MS, 2 * pool.requestTimeoutMs)
  }

  of(token: string): KeepAlives {
    return { keepAlive: (id) => this.keepAlive(token, id) }
  }

  close(): void {
    for (const held of this.byToken.values()) {
      clearTimeout(held.timer)
      held.stream.close()
    }
    this.byToken.clear()
  }

  private keepAlive(token: string, id: bigint): Promise<LeaseKeepAliveResponse> {
    const held = this.byToken.get(token)
    if (held) clearTimeout(held.timer)
    const stream = held?.stream ?? new KeepAliveStream(this.pool, token)
    this.byToken.set(token, { stream, timer: this.idleTimer(token, stream) })
    return stream.keepAlive(id)
  }

  /** Closes the token's stream once idle (not while keepalives wait for answers). */
  private idleTimer(token: string, stream: KeepAliveStream): NodeJS.Timeout {
    const timer = setTimeout(() => {
      if (stream.busy) return void this.byToken.set(token, { stream, timer: this.idleTimer(token, stream) })
      this.byToken.delete(token)
      stream.close()
    }, this.idleMs)
    timer.unref()
    return timer
  }
}
