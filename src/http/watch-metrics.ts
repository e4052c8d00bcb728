/** The open-watches gauge, read from the backend's streams. */
import { Gauge, type Registry } from 'prom-client'
import type { Watch, WatchRequest, WatchResponse, WatchStream } from '../backend/backend.js'

/**
 * A gauge of the app's registry showing the watches open on this server; the function it returns gives a
 * Watch (a caller's, see Backend.as) whose streams the gauge counts.
 */
export function watchCounter(registry: Registry): (watch: Watch) => Watch {
  const streams = new Set<WatchStream>()
  new Gauge({
    name: 'etcdgw_watches_open',
    help: 'Watches open on this server.',
    registers: [registry],
    collect() {
      let open = 0
      for (const stream of streams) open += stream.liveWatchIds.size
      this.set(open)
    },
  })
  return (watch) => ({
    open(onResponse: (resp: WatchResponse) => void) {
      const stream = new CountedStream(watch.open(onResponse), streams)
      streams.add(stream)
      return stream
    },
  })
}

/** A stream the gauge counts while it is open (a class: no closures per stream). */
class CountedStream implements WatchStream {
  constructor(
    private readonly inner: WatchStream,
    private readonly streams: Set<WatchStream>,
  ) {}

  get liveWatchIds(): ReadonlySet<number> {
    return this.inner.liveWatchIds
  }

  send(req: WatchRequest): void {
    this.inner.send(req)
  }

  close(): void {
    this.streams.delete(this)
    this.inner.close()
  }
}
