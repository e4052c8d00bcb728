/** Real TLS clients for the gateway tests: Node's https and tls, curl and openssl s_client. */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type Agent, request } from 'node:https'
import { connect, type TLSSocket } from 'node:tls'
import type { CertFiles } from '../../pki/index.js'

export interface ClientTls {
  /** the CA file the server certificate must chain to */
  ca: string
  /** the client certificate to present, if any */
  client?: CertFiles
}

function nodeTlsOptions(tls: ClientTls) {
  return {
    ca: readFileSync(tls.ca),
    ...(tls.client ? { cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } : {}),
  }
}

export interface Reply {
  status: number
  body: string
  /** serial of the server certificate on the connection that carried it */
  serial: string
  reusedSocket: boolean
  /** the TLS handshake resumed an earlier session */
  sessionReused: boolean
}

/** POSTs `body` with Node's https; rejects when the connection is refused or closed. */
export function nodePost(url: string, body: string, tls: ClientTls, agent?: Agent): Promise<Reply> {
  return nodeRequest('POST', url, body, tls, agent)
}

export function nodeGet(url: string, tls: ClientTls): Promise<Reply> {
  return nodeRequest('GET', url, '', tls)
}

function nodeRequest(method: string, url: string, body: string, tls: ClientTls, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ...nodeTlsOptions(tls), ...(agent ? { agent } : { agent: false }), timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      const socket = res.socket as TLSSocket
      const serial = socket.getPeerCertificate().serialNumber
      const sessionReused = socket.isSessionReused()
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), serial, reusedSocket: req.reusedSocket, sessionReused }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end(body)
  })
}

/** The serial of the certificate a fresh handshake presents (Node's tls, upper-case hex). */
export function servedSerial(url: string, tls: ClientTls): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ...nodeTlsOptions(tls) }, () => {
      const serial = socket.getPeerCertificate().serialNumber
      socket.end()
      resolve(serial)
    })
    socket.setTimeout(10_000, () => socket.destroy(new Error('timed out')))
    socket.on('error', reject)
  })
}

export interface CurlResult {
  exitCode: number
  stdout: string
  stderr: string
}

export function curlPost(url: string, body: string, tls: ClientTls, extra: string[] = []): Promise<CurlResult> {
  const args = ['-sS', '-m', '10', '--cacert', tls.ca, ...(tls.client ? ['--cert', tls.client.cert, '--key', tls.client.key] : []), ...extra, '-X', 'POST', url, '-d', body]
  return run('curl', args)
}

/** `openssl s_client` → `openssl x509 -serial`: the serial as openssl sees it on a new connection. */
export async function opensslServedSerial(url: string, tls: ClientTls): Promise<string> {
  const { hostname, port } = new URL(url)
  const client = tls.client ? `-cert '${tls.client.cert}' -key '${tls.client.key}'` : ''
  const r = await run('sh', ['-c', `openssl s_client -connect ${hostname}:${port} -CAfile '${tls.ca}' ${client} </dev/null 2>/dev/null | openssl x509 -noout -serial`])
  return r.stdout.trim().replace(/^serial=/, '')
}

export function run(file: string, args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0
      resolve({ exitCode: code, stdout, stderr })
    })
  })
}

/** Serials compared as numbers: tools differ in case and leading zeros. */
export function sameSerial(a: string, b: string): boolean {
  const norm = (s: string) => s.toUpperCase().replace(/^0+/, '')
  return norm(a) === norm(b)
}
