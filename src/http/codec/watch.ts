/**
 * Watch responses as stream lines. The hub hands the watchers of one key the same events array, so
 * their encoding is shared, per (events array, codec):
 * - small events: one whole line per watch id (thousands of sockets watching one key with the same
 *   id, as each client's first watch has, share one Buffer);
 * - events of SHARED_TAIL_BYTES or more: one tail, `,"events":[…]}}\n`, shared by every watcher
 *   whatever its id, after a head of each line's own (`{"result":{"header":…,"watch_id":…`). Thousands
 *   of paused watchers of a large value then hold one copy of it, not one each.
 */
import type { Event, WatchResponse } from '../../backend/backend.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { encoders } from './codecs.js'
import { ownedUtf8, resultLine, type StreamLine } from './envelope.js'

/** Events whose encoding is shorter are copied into each watch id's line: one Buffer is cheaper to write than two. */
export const SHARED_TAIL_BYTES = 1024

interface EncodedEvents {
  /** Whole lines by watch id (small events). */
  readonly lines: Map<number, Buffer>
  /** The tail every line of these events ends with (large events). */
  tail?: Buffer
}

/** Per codec, as streams in base64 and in text mode may watch the same key. */
const encodedEvents = new Map<BytesCodec, WeakMap<readonly Event[], EncodedEvents>>()

/** The stream line `{"result":<response>}\n`; WebSocket frames drop the newline. Treat as read-only. */
export function watchResultLine(r: WatchResponse, codec: BytesCodec = base64Codec): StreamLine {
  if (r.events.length === 0) return resultLine(encoders.WatchResponse(r, codec))
  let cache = encodedEvents.get(codec)
  if (!cache) encodedEvents.set(codec, (cache = new WeakMap()))
  let encoded = cache.get(r.events)
  if (!encoded) cache.set(r.events, (encoded = { lines: new Map() }))
  if (encoded.tail) return { head: headOf(r, codec), tail: encoded.tail }
  const line = encoded.lines.get(r.watchId)
  if (line) return line
  const json = encoders.WatchResponse(r, codec)
  if (json.length < SHARED_TAIL_BYTES) {
    const whole = resultLine(json)
    encoded.lines.set(r.watchId, whole)
    return whole
  }
  // events is the response's last field: the tail is what follows the rest (a response always has a header)
  const withoutEvents = encoders.WatchResponse({ ...r, events: [] }, codec)
  encoded.tail = ownedUtf8(json.slice(withoutEvents.length - 1) + '}\n')
  return { head: resultHead(withoutEvents), tail: encoded.tail }
}

/** `{"result":` and the response without its events, up to where `,"events":[…]` goes. */
function headOf(r: WatchResponse, codec: BytesCodec): Buffer {
  return resultHead(encoders.WatchResponse({ ...r, events: [] }, codec))
}

const resultHead = (withoutEvents: string) => Buffer.from('{"result":' + withoutEvents.slice(0, -1), 'utf8')
