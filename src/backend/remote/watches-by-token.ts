/**
 * The watch streams of callers with tokens: each token has its own upstream Watch stream (one
 * RemoteWatch), so etcd checks every watch against its opener's user and streams of different
 * identities never share one. It lives while a client stream of that token is open.
 */
import type { Watch, WatchResponse, WatchStream } from '../backend.js'
import type { EndpointPool } from './endpoint-pool.js'
import { RemoteWatch } from './watch.js'

interface Shared {
  watch: RemoteWatch
  streams: number
}

export class WatchesByToken {
  private readonly byToken = new Map<string, Shared>()

  constructor(private readonly pool: EndpointPool) {}

  of(token: string): Watch {
    return { open: (onResponse) => this.open(token, onResponse) }
  }

  close(): void {
    for (const shared of this.byToken.values()) shared.watch.close()
    this.byToken.clear()
  }

  private open(token: string, onResponse: (resp: WatchResponse) => void): WatchStream {
    let shared = this.byToken.get(token)
    if (!shared) this.byToken.set(token, (shared = { watch: new RemoteWatch(this.pool, token), streams: 0 }))
    shared.streams++
    const stream = shared.watch.open(onResponse)
    let closed = false
    return {
      get liveWatchIds() {
        return stream.liveWatchIds
      },
      send: (req) => stream.send(req),
      close: () => {
        if (closed) return
        closed = true
        stream.close()
        if (--shared.streams === 0 && this.byToken.get(token) === shared) {
          this.byToken.delete(token)
          shared.watch.close()
        }
      },
    }
  }
}
