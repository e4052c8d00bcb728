/**
 * Watch responses as stream lines. Event messages are encoded once per (events array, watch id): the
 * hub hands the watchers of one key the same array, so thousands of sockets watching one key share one
 * Buffer.
 */
import type { Event, WatchResponse } from '../../backend/backend.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { encoders } from './codecs.js'
import { resultLine } from './envelope.js'

/** Per codec, as streams in base64 and in text mode may watch the same key. */
const encodedEvents = new Map<BytesCodec, WeakMap<readonly Event[], Map<number, Buffer>>>()

/** The stream line `{"result":<response>}\n`; WebSocket frames drop the newline. Treat as read-only. */
export function watchResultLine(r: WatchResponse, codec: BytesCodec = base64Codec): Buffer {
  if (r.events.length === 0) return resultLine(encoders.WatchResponse(r, codec))
  let cache = encodedEvents.get(codec)
  if (!cache) encodedEvents.set(codec, (cache = new WeakMap()))
  let byId = cache.get(r.events)
  if (!byId) cache.set(r.events, (byId = new Map()))
  let line = byId.get(r.watchId)
  if (!line) byId.set(r.watchId, (line = resultLine(encoders.WatchResponse(r, codec))))
  return line
}
