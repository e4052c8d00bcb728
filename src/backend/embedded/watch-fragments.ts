/**
 * etcd's watch response fragmentation (v3rpc sendFragments): for a watch created with `fragment`, a
 * response whose protobuf size reaches the limit (--max-request-bytes + gRPC's 512 KiB) is sent as
 * several, each as full as it can be under the limit (but at least one event), all but the last
 * flagged `fragment`. Sizes are protobuf sizes because that is what etcd compares, whatever the wire.
 */
import type { Event, ResponseHeader, WatchResponse } from '../backend.js'
import { bytesFieldSize, keyValueSize, messageFieldSize, varintFieldSize } from '../../proto-size.js'

export function* fragments(resp: WatchResponse, maxBytes: number): Generator<WatchResponse> {
  const eventSizes = resp.events.map((e) => messageFieldSize(eventSize(e)))
  const whole = envelopeSize(resp) + eventSizes.reduce((a, b) => a + b, 0)
  if (whole < maxBytes || resp.events.length < 2) {
    yield resp
    return
  }
  const base = envelopeSize({ ...resp, fragment: true })
  let idx = 0
  for (;;) {
    const start = idx
    let size = base
    while (idx < resp.events.length) {
      size += eventSizes[idx]
      if (idx > start && size >= maxBytes) break
      idx++
    }
    const last = idx === resp.events.length
    yield { ...resp, fragment: !last, events: resp.events.slice(start, idx) }
    if (last) return
  }
}

/** WatchResponse without its events. */
function envelopeSize(r: WatchResponse): number {
  return (
    messageFieldSize(headerSize(r.header)) +
    varintFieldSize(r.watchId) +
    (r.created ? 2 : 0) +
    (r.canceled ? 2 : 0) +
    varintFieldSize(r.compactRevision) +
    bytesFieldSize(Buffer.byteLength(r.cancelReason)) +
    (r.fragment ? 2 : 0)
  )
}

function headerSize(h: ResponseHeader): number {
  return varintFieldSize(h.clusterId) + varintFieldSize(h.memberId) + varintFieldSize(h.revision) + varintFieldSize(h.raftTerm)
}

function eventSize(e: Event): number {
  return varintFieldSize(e.type) + messageFieldSize(keyValueSize(e.kv)) + (e.prevKv ? messageFieldSize(keyValueSize(e.prevKv)) : 0)
}
