/** A gateway's /v3/maintenance/snapshot (ours, or etcd's own) read as etcd's Snapshot stream. */
import type { SnapshotChunk } from '../backend/backend.js'
import { type ClientTls, GatewayError, post } from './gateway-client.js'

interface StreamMessage {
  result?: { remaining_bytes?: string; blob?: string }
  error?: { message?: string; grpc_code?: number }
}

/** One chunk per NDJSON message; an error message, a failed status or a cut stream rejects with etcd's text. */
export async function* gatewaySnapshot(endpoint: string, tls: ClientTls = {}): AsyncGenerator<SnapshotChunk> {
  const res = await post(`${endpoint}/v3/maintenance/snapshot`, '{}', tls)
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    throw new GatewayError(`snapshot: ${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`)
  }
  const decoder = new TextDecoder()
  let text = ''
  const parse = (line: string): SnapshotChunk => {
    const msg = JSON.parse(line) as StreamMessage
    if (!msg.result) throw new GatewayError(`snapshot: ${msg.error?.message ?? line}`)
    return { remainingBytes: Number(msg.result.remaining_bytes ?? 0), blob: Buffer.from(msg.result.blob ?? '', 'base64') }
  }
  for await (const bytes of res as AsyncIterable<Buffer>) {
    text += decoder.decode(bytes, { stream: true })
    let nl: number
    while ((nl = text.indexOf('\n')) !== -1) {
      const line = text.slice(0, nl)
      text = text.slice(nl + 1)
      yield parse(line)
    }
  }
  // grpc-gateway ends an in-stream error without a newline
  if (text.trim() !== '') yield parse(text)
}
