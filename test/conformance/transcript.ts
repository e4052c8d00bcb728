import type { HttpResponse } from '../helpers/http.js'

/**
 * The response headers a client can observe and etcd sets deliberately. Date, Content-Length (implied
 * by the body) and the framing of error bodies (chunked with a gRPC trailer) are not compared.
 */
export const COMPARED_HEADERS = [
  'content-type',
  'grpc-metadata-content-type',
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
    const value = res.headers[name]
    if (value !== undefined) lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
  }
  lines.push('', normalizeBody(res.body))
  return lines.join('\n')
}
