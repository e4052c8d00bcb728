import { Agent, request, type IncomingHttpHeaders } from 'node:http'

export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  /** The raw body text, byte for byte as the server sent it (decoded as UTF-8). */
  body: string
  /** Trailers after a chunked body (etcd sends Grpc-Trailer-Content-Type after errors). */
  trailers: Record<string, string | undefined>
}

export interface RequestOptions {
  method?: string
  /** Extra request headers; null removes a default (content-type is application/json unless given). */
  headers?: Record<string, string | null>
  timeoutMs?: number
}

const agent = new Agent({ keepAlive: true })

/**
 * Send one request and return status, headers and the raw body. `path` is sent verbatim (so `//` and
 * query strings reach the server untouched); redirects are not followed.
 */
export function send(
  baseUrl: string,
  path: string,
  body: string | Buffer = '',
  options: RequestOptions = {},
): Promise<HttpResponse> {
  const base = new URL(baseUrl)
  const payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  const method = options.method ?? 'POST'
  const headers: Record<string, string | number> = { 'content-length': payload.length }
  for (const [name, value] of Object.entries({ 'content-type': 'application/json', ...options.headers })) {
    if (value !== null) headers[name] = value
  }
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            trailers: res.trailers,
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`${method} ${baseUrl}${path}: no answer in time`)))
    req.on('error', reject)
    req.end(payload)
  })
}

/** POST a raw body string (possibly malformed JSON) to baseUrl + path. */
export function post(baseUrl: string, path: string, body: string | Buffer, options: RequestOptions = {}) {
  return send(baseUrl, path, body, { ...options, method: 'POST' })
}
