/**
 * A gateway's /v3/maintenance/snapshot (ours, or etcd's own) read as etcd's Snapshot stream. The file's
 * bytes are asked for as they are (application/octet-stream, which etcdgw serves beside etcd's JSON
 * lines); a gateway that answers JSON anyway (etcd's) is read as its lines of base64 blobs.
 */
import type { IncomingMessage } from 'node:http'
import type { SnapshotChunk } from '../backend/backend.js'
import { SHA256_TRAILER_BYTES } from '../snapshot/bolt-format.js'
import { type GatewayAccess, GatewayError, post } from './gateway-client.js'

interface StreamMessage {
  result?: { remaining_bytes?: string; blob?: string }
  error?: { message?: string; grpc_code?: number }
}

const OCTET_STREAM = 'application/octet-stream'

/** One chunk per message (the sha256 last); an error message, a failed status or a cut stream rejects with etcd's text. */
export async function* gatewaySnapshot(endpoint: string, tls: GatewayAccess = {}): AsyncGenerator<SnapshotChunk> {
  const res = await post(`${endpoint}/v3/maintenance/snapshot`, '{}', tls, undefined, `${OCTET_STREAM}, application/json`)
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    throw new GatewayError(`snapshot: ${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`)
  }
  if (res.headers['content-type']?.split(';')[0]?.trim() === OCTET_STREAM) yield* fileBytes(res)
  else yield* jsonLines(res)
}

/** The file's bytes as they come, then its trailing sha256 as a chunk of its own. */
async function* fileBytes(res: IncomingMessage): AsyncGenerator<SnapshotChunk> {
  const total = Number(res.headers['content-length'])
  if (!Number.isSafeInteger(total) || total < SHA256_TRAILER_BYTES) throw new GatewayError('snapshot: the response has no Content-Length to check it by')
  const dbBytes = total - SHA256_TRAILER_BYTES
  let received = 0
  const trailer: Buffer[] = []
  try {
    for await (const bytes of res as AsyncIterable<Buffer>) {
      const data = Math.max(0, Math.min(bytes.length, dbBytes - received))
      received += bytes.length
      if (data > 0) yield { remainingBytes: dbBytes - (received - bytes.length + data), blob: data === bytes.length ? bytes : bytes.subarray(0, data) }
      if (data < bytes.length) trailer.push(bytes.subarray(data))
    }
  } catch {
    // the gateway cuts the response short when the stream fails after its start
  }
  if (received !== total) throw new GatewayError(`snapshot: the stream was cut short after ${received} of ${total} bytes`)
  yield { remainingBytes: 0, blob: Buffer.concat(trailer) }
}

/** etcd's gateway: one {"result": {blob, remaining_bytes}} line per message, or an {"error": …} one. */
async function* jsonLines(res: IncomingMessage): AsyncGenerator<SnapshotChunk> {
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
