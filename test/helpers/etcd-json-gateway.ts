/**
 * etcd's own JSON gateway as the reference the remote backend is compared with: requests in its
 * JSON, answers converted to the backend's internal types.
 */
import { request } from 'node:http'
import type { Event, KeyValue, ResponseHeader, WatchResponse } from '../../src/backend/backend.js'

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

export async function gateway(url: string, path: string, body: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

export function header(j: Json): ResponseHeader {
  return {
    clusterId: BigInt(j?.cluster_id ?? 0),
    memberId: BigInt(j?.member_id ?? 0),
    revision: Number(j?.revision ?? 0),
    raftTerm: Number(j?.raft_term ?? 0),
  }
}

export function keyValue(j: Json): KeyValue {
  return {
    key: Buffer.from(j.key ?? '', 'base64'),
    createRevision: Number(j.create_revision ?? 0),
    modRevision: Number(j.mod_revision ?? 0),
    version: Number(j.version ?? 0),
    value: Buffer.from(j.value ?? '', 'base64'),
    lease: BigInt(j.lease ?? 0),
  }
}

function event(j: Json): Event {
  const out: Event = { type: j.type === 'DELETE' ? 1 : 0, kv: keyValue(j.kv) }
  if (j.prev_kv) out.prevKv = keyValue(j.prev_kv)
  return out
}

export function watchResponse(j: Json): WatchResponse {
  return {
    header: header(j.header),
    watchId: Number(j.watch_id ?? 0),
    created: j.created ?? false,
    canceled: j.canceled ?? false,
    compactRevision: Number(j.compact_revision ?? 0),
    cancelReason: j.cancel_reason ?? '',
    fragment: j.fragment ?? false,
    events: (j.events ?? []).map(event),
  }
}

/** A watch stream on etcd's gateway: the request messages are sent at once, responses collected. */
export function gatewayWatch(url: string, messages: unknown[]): { responses: WatchResponse[]; close(): void } {
  const responses: WatchResponse[] = []
  const u = new URL(url)
  const req = request({ host: u.hostname, port: u.port, method: 'POST', path: '/v3/watch' }, (res) => {
    let buffered = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffered += chunk
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        if (line.trim()) responses.push(watchResponse(JSON.parse(line).result))
      }
    })
    res.on('error', () => {})
  })
  req.on('error', () => {})
  req.write(messages.map((m) => JSON.stringify(m)).join('\n'))
  // the gateway keeps a watch open after the request body ends
  req.end()
  return { responses, close: () => req.destroy() }
}
