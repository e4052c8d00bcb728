/**
 * etcd's Watch messages on the JSON wire: WatchRequest in, WatchResponse out (as `{"result":…}` lines
 * of a stream). Event messages are encoded once per (events array, watch id): the hub hands the
 * watchers of one key the same array, so thousands of sockets watching one key share one Buffer.
 */
import {
  type Event,
  EventType,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse,
} from '../../backend/backend.js'
import { goJsonString } from '../go-text.js'
import type { JsonObject, JsonValue } from '../json.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { bool, enumValue, field, int64, message, repeated } from './fields.js'
import { body } from './request.js'
import { encodeHeader, encodeKeyValue } from './response.js'

const filterTypes = new Map([['NOPUT', 0], ['NODELETE', 1]])

function createRequest(o: JsonObject, codec: BytesCodec): WatchCreateRequest {
  const { key, rangeEnd } = codec.keyRange(o)
  return {
    key,
    rangeEnd,
    startRevision: int64(field(o, 'start_revision', 'startRevision')),
    progressNotify: bool(field(o, 'progress_notify', 'progressNotify')),
    filters: repeated(o.get('filters')).map((f) => enumValue(f, 'etcdserverpb.WatchCreateRequest_FilterType', filterTypes)),
    prevKv: bool(field(o, 'prev_kv', 'prevKv')),
    watchId: int64(field(o, 'watch_id', 'watchId')),
    fragment: bool(o.get('fragment')),
  }
}

/**
 * One WatchRequest; undefined when no request is set (`{}`, an unknown field), which etcd ignores.
 * Every member given is decoded (a bad one fails); the first in proto order is the request.
 */
export function decodeWatchRequest(v: JsonValue | undefined, codec = base64Codec): WatchRequest | undefined {
  const o = body(v)
  const create = message(field(o, 'create_request', 'createRequest'))
  const cancel = message(field(o, 'cancel_request', 'cancelRequest'))
  const progress = message(field(o, 'progress_request', 'progressRequest'))
  const c = create && createRequest(create, codec)
  const watchId = cancel && int64(field(cancel, 'watch_id', 'watchId'))
  if (c) return { kind: 'create', request: c }
  if (watchId !== undefined) return { kind: 'cancel', watchId }
  if (progress) return { kind: 'progress' }
  return undefined
}

function encodeEvent(e: Event, codec: BytesCodec): string {
  let s = e.type === EventType.DELETE ? '{"type":"DELETE","kv":' : '{"kv":'
  s += encodeKeyValue(e.kv, codec)
  if (e.prevKv) s += ',"prev_kv":' + encodeKeyValue(e.prevKv, codec)
  return s + '}'
}

export function encodeWatchResponse(r: WatchResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.watchId !== 0) s += `,"watch_id":"${r.watchId}"`
  if (r.created) s += ',"created":true'
  if (r.canceled) s += ',"canceled":true'
  if (r.compactRevision !== 0) s += `,"compact_revision":"${r.compactRevision}"`
  if (r.cancelReason !== '') s += ',"cancel_reason":' + goJsonString(r.cancelReason)
  if (r.fragment) s += ',"fragment":true'
  if (r.events.length !== 0) s += ',"events":[' + r.events.map((e) => encodeEvent(e, codec)).join(',') + ']'
  return s + '}'
}

/** Per codec, as streams in base64 and in text mode may watch the same key. */
const encodedEvents = new Map<BytesCodec, WeakMap<readonly Event[], Map<number, Buffer>>>()

/** The stream line `{"result":<response>}\n`; WebSocket frames drop the newline. Treat as read-only. */
export function watchResultLine(r: WatchResponse, codec: BytesCodec = base64Codec): Buffer {
  if (r.events.length === 0) return resultLine(encodeWatchResponse(r, codec))
  let cache = encodedEvents.get(codec)
  if (!cache) encodedEvents.set(codec, (cache = new WeakMap()))
  let byId = cache.get(r.events)
  if (!byId) cache.set(r.events, (byId = new Map()))
  let line = byId.get(r.watchId)
  if (!line) byId.set(r.watchId, (line = resultLine(encodeWatchResponse(r, codec))))
  return line
}

/** A message of a gRPC stream as grpc-gateway writes it: `{"result":…}` and a newline. */
export function resultLine(json: string): Buffer {
  return Buffer.from('{"result":' + json + '}\n', 'utf8')
}
