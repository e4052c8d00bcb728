/** What the gateway TLS tests share: request bodies, a PKI per test, mTLS serve flags, stopping a server. */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Test } from 'tap'
import type { ServeProcess } from './serve-process.js'
import { makeTestPki, removeTestPki, type TestPki } from './tls-certs.js'

export const PUT = '{"key":"Zm9v","value":"YmFy"}'
export const RANGE = '{"key":"Zm9v"}'

export async function pkiFor(t: Test): Promise<TestPki> {
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  return pki
}

/** HTTPS on a free loopback port, every client must present a certificate from the PKI's CA. */
export function mtlsArgs(pki: TestPki, dataDir: string, extra: string[] = []): string[] {
  return [
    '--listen-client-urls', 'https://127.0.0.1:0', '--data-dir', dataDir,
    '--cert-file', pki.server.cert, '--key-file', pki.server.key,
    '--client-cert-auth', '--trusted-ca-file', pki.ca, ...extra,
  ]
}

export const serialOfFile = (file: string) => new X509Certificate(readFileSync(file)).serialNumber

export async function stopServe(server: ServeProcess): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
}
