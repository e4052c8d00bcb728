/**
 * The CLI's HTTP(S) client for the KV commands: POSTs to a gateway with optional client TLS (etcdctl's
 * --cacert/--cert/--key), returning the raw JSON text, and a watch over the HTTP stream.
 */
import { readFileSync } from 'node:fs'
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { Option } from 'commander'
import { GatewayError } from './gateway-client.js'

export interface TlsFiles {
  cacert?: string
  cert?: string
  key?: string
}

export const tlsOptions = () => [
  new Option('--cacert <file>', 'verify the server with this CA bundle'),
  new Option('--cert <file>', 'client certificate for TLS'),
  new Option('--key <file>', 'client key for TLS'),
]

export class KvClient {
  private readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }

  /** `endpoints` are tried in order while they cannot be reached. */
  constructor(
    private readonly endpoints: string[],
    files: TlsFiles,
  ) {
    const read = (f?: string) => (f === undefined ? undefined : readFileSync(f))
    this.tls = { ca: read(files.cacert), cert: read(files.cert), key: read(files.key) }
  }

  /** POST /v3/<path>: the response's JSON text; an error body becomes a GatewayError with etcd's message. */
  async call(path: string, body: unknown): Promise<string> {
    const res = await this.open(path, JSON.stringify(body), true)
    const text = (await collect(res)).toString('utf8')
    if (res.statusCode === 200) return text
    let message: string | undefined
    try {
      message = (JSON.parse(text) as { message?: string }).message
    } catch {
      // not JSON: shown as it came
    }
    throw new GatewayError(message ?? `${res.statusCode} ${text.trim()}`)
  }

  /** Opens POST /v3/watch with one request message; `line` gets every response line, until the stream ends. */
  async watch(createRequest: unknown, line: (json: string) => void): Promise<void> {
    const res = await this.open('watch', JSON.stringify({ create_request: createRequest }), false)
    if (res.statusCode !== 200) {
      const text = (await collect(res)).toString('utf8')
      throw new GatewayError((JSON.parse(text) as { message?: string }).message ?? `HTTP ${res.statusCode}`)
    }
    let pending = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      pending += chunk
      let nl: number
      while ((nl = pending.indexOf('\n')) !== -1) {
        const l = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (l.trim() !== '') line(l)
      }
    })
    await new Promise<void>((resolve, reject) => {
      res.on('end', resolve)
      res.on('error', reject)
    })
  }

  private async open(path: string, body: string, end: boolean): Promise<IncomingMessage> {
    let lastError: Error | undefined
    for (const endpoint of this.endpoints) {
      try {
        return await this.openOn(endpoint, path, body, end)
      } catch (err) {
        lastError = err as Error
      }
    }
    const code = (lastError as NodeJS.ErrnoException | undefined)?.code
    throw new GatewayError(code ?? lastError?.message ?? 'no endpoint')
  }

  private openOn(endpoint: string, path: string, body: string, end: boolean): Promise<IncomingMessage> {
    const url = new URL(`${endpoint}/v3/${path}`)
    const options: RequestOptions & { ca?: Buffer; cert?: Buffer; key?: Buffer } = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      timeout: end ? 5_000 : undefined,
      ...(url.protocol === 'https:' ? this.tls : {}),
    }
    return new Promise((resolve, reject) => {
      const req: ClientRequest = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, resolve)
      req.on('error', reject)
      req.on('timeout', () => req.destroy(new Error('timed out')))
      // A watch keeps its request body open: etcd's gateway ends the stream with it.
      if (end) req.end(body)
      else req.write(body)
    })
  }
}

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    res.on('data', (c: Buffer) => chunks.push(c))
    res.on('end', () => resolve(Buffer.concat(chunks)))
    res.on('error', reject)
  })
}
