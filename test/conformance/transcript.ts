import type { HttpResponse } from '../helpers/http.js'

/**
 * The response headers etcd sets deliberately, including the gRPC trailer that ends errors raised by
 * the call (which implies a chunked body). Not compared: Date, Connection/Keep-Alive, and the choice
 * between Content-Length and chunked otherwise, an artifact of Go's net/http (it chunks any response
 * body over 2,048 bytes) that no client can tell apart.
 */
export const COMPARED_HEADERS = [
  'content-type',
  'grpc-metadata-content-type',
  'trailer',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'x-content-type-options',
  'location',
] as const

const MEMBER_SPECIFIC = /"(cluster_id|member_id|raft_term)":"-?\d+"/g

/**
 * Hide the three response-header fields that differ between any two etcd clusters. The replacement
 * is textual on a body that parses as JSON (rather than parse + re-serialize) so every other byte,
 * including Go's escaping of `<`, `>` and `&`, is still compared exactly. Inside JSON strings the
 * quotes would be escaped, so only real fields match.
 */
export function normalizeBody(body: string): string {
  try {
    JSON.parse(body)
  } catch {
    return body
  }
  return body.replace(MEMBER_SPECIFIC, '"$1":"<$1>"')
}

/** Status, compared headers and normalized body as one text, so a mismatch prints as a line diff. */
export function transcript(res: HttpResponse): string {
  const lines = [`HTTP ${res.status}`]
  for (const name of COMPARED_HEADERS) {
    const raw = res.headers[name]
    if (raw === undefined) continue
    const value = Array.isArray(raw) ? raw.join(', ') : raw
    // Trailer lists header names, which HTTP compares without regard to case.
    lines.push(`${name}: ${name === 'trailer' ? value.toLowerCase() : value}`)
  }
  lines.push('', normalizeBody(res.body))
  for (const [name, value] of Object.entries(res.trailers)) lines.push(`(trailer) ${name}: ${value}`)
  return lines.join('\n')
}
