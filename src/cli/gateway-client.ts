/** The CLI's client for a gateway (ours or etcd's own): JSON over HTTP or HTTPS, etcd's error bodies. */
import { readFileSync } from 'node:fs'
import { type IncomingMessage, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { type Command, Option } from 'commander'

export const endpointsOption = () =>
  new Option('--endpoints <urls>', 'comma-separated gateway URLs').env('ETCDCTL_ENDPOINTS').default('http://127.0.0.1:2379')

export const writeOutOption = (choices: string[]) =>
  new Option('-w, --write-out <format>', 'output format').choices(choices).default('simple')

/** etcdctl's client TLS flags and their ETCDCTL_* variables. */
export function addTlsOptions(command: Command): Command {
  return command
    .addOption(new Option('--cacert <file>', 'verify the gateway\'s certificate with this CA bundle').env('ETCDCTL_CACERT'))
    .addOption(new Option('--cert <file>', 'client certificate for an https gateway').env('ETCDCTL_CERT'))
    .addOption(new Option('--key <file>', 'key of the client certificate').env('ETCDCTL_KEY'))
}

export interface TlsFlags {
  cacert?: string
  cert?: string
  key?: string
}

/** The https options the flags name, read once; a certificate without its key (or the reverse) is refused. */
export interface ClientTls {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
}

export function clientTls(flags: TlsFlags): ClientTls {
  if ((flags.cert === undefined) !== (flags.key === undefined)) fail('--cert and --key must be given together')
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined
    try {
      return readFileSync(file)
    } catch (err) {
      fail(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const ca = read('--cacert', flags.cacert)
  const cert = read('--cert', flags.cert)
  const key = read('--key', flags.key)
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) }
}

export function endpointList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== '')
}

export class GatewayError extends Error {}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: { code?: string; message?: string } }
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message
}

/**
 * POSTs `body` to `url` (asking for the `accept` media types, when given); resolves with the response once
 * its headers arrive. Network errors become GatewayErrors.
 */
export function post(url: string, body: string, tls: ClientTls = {}, timeoutMs?: number, accept?: string): Promise<IncomingMessage> {
  const https = url.startsWith('https:')
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', ...(accept ? { accept } : {}) }
    const options = { method: 'POST', headers, ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) }
    const req = https ? httpsRequest(url, { ...options, ...tls }, resolve) : httpRequest(url, options, resolve)
    req.on('error', (err) => reject(new GatewayError(describe(err))))
    req.end(body)
  })
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

/** POST /v3/<path>; resolves to the parsed JSON body, rejects with etcd's message on an error body. */
export async function rpc<T>(endpoint: string, path: string, body: unknown = {}, tls: ClientTls = {}, timeoutMs = 5_000): Promise<T> {
  const res = await post(`${endpoint}/v3/${path}`, JSON.stringify(body), tls, timeoutMs)
  let text: string
  try {
    text = await readAll(res)
  } catch (err) {
    throw new GatewayError(describe(err))
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError(`${res.statusCode} ${text.trim()}`)
  }
  if (res.statusCode !== 200) throw new GatewayError((parsed as { message?: string }).message ?? `HTTP ${res.statusCode}`)
  return parsed as T
}

/** Prints the error the way the commands end on failure, with etcdctl's exit code. */
export function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}
