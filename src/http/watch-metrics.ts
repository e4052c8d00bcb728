/** The open-watches gauge, read from the backend's streams. */
import { Gauge, type Registry } from 'prom-client'
import type { Watch, WatchResponse, WatchStream } from '../backend/backend.js'

/** The backend's Watch, with a gauge of the app's registry showing the watches open on it. */
export function countedWatch(watch: Watch, registry: Registry): Watch {
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
  return {
    open(onResponse: (resp: WatchResponse) => void) {
      const stream = watch.open(onResponse)
      streams.add(stream)
      return {
        send: (req) => stream.send(req),
        get liveWatchIds() {
          return stream.liveWatchIds
        },
        close() {
          streams.delete(stream)
          stream.close()
        },
      }
    },
  }
}
