/**
 * Reading the served certificate, its key, the trusted CA bundle and the client CRL, checked as a TLS server would use them.
 * Every failure names the flag, the file and the reason, so an operator can act on it directly.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { revokedSerials, splitPemCerts } from '../../pki/index.js'
import type { TlsConfig } from '../config.js'

export interface TlsMaterial {
  /** the certificate file as on disk: the served certificate, then any intermediates */
  cert: Buffer
  key: Buffer
  ca?: Buffer
  served: X509Certificate
  trusted: X509Certificate[]
  crl?: Buffer
  /** serials --client-crl-file revokes (normalSerial form) */
  revoked: Set<string>
}

export class TlsFileError extends Error {
  constructor(
    readonly flag: string,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${flag} ${file}: ${reason}`)
    this.name = 'TlsFileError'
  }
}

export async function loadTlsMaterial(config: TlsConfig): Promise<TlsMaterial> {
  const [cert, key, ca, crl] = await Promise.all([
    readPem('--cert-file', config.certFile),
    readPem('--key-file', config.keyFile),
    config.trustedCaFile === undefined ? undefined : readPem('--trusted-ca-file', config.trustedCaFile),
    config.clientCrlFile === undefined ? undefined : readPem('--client-crl-file', config.clientCrlFile),
  ])
  const served = parseCerts('--cert-file', config.certFile, cert)[0]!
  let privateKey
  try {
    privateKey = createPrivateKey(key)
  } catch (err) {
    throw new TlsFileError('--key-file', config.keyFile, `cannot parse private key: ${(err as Error).message}`)
  }
  if (!served.checkPrivateKey(privateKey)) {
    throw new TlsFileError('--key-file', config.keyFile, `private key does not match the certificate in ${config.certFile}`)
  }
  const trusted = ca === undefined ? [] : parseCerts('--trusted-ca-file', config.trustedCaFile!, ca)
  try {
    createSecureContext({ cert, key, ...(ca === undefined ? {} : { ca }) })
  } catch (err) {
    throw new TlsFileError('--cert-file', config.certFile, `not usable for TLS: ${(err as Error).message}`)
  }
  let revoked = new Set<string>()
  if (crl !== undefined) {
    try {
      revoked = revokedSerials(crl)
    } catch (err) {
      throw new TlsFileError('--client-crl-file', config.clientCrlFile!, `cannot parse certificate revocation list: ${(err as Error).message}`)
    }
  }
  return { cert, key, ...(ca === undefined ? {} : { ca }), served, trusted, ...(crl === undefined ? {} : { crl }), revoked }
}

export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  const same = (x: Buffer | undefined, y: Buffer | undefined) => (x === undefined ? y === undefined : y !== undefined && x.equals(y))
  return a.cert.equals(b.cert) && a.key.equals(b.key) && same(a.ca, b.ca) && same(a.crl, b.crl)
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a PEM file' : `cannot read: ${(err as Error).message}`
    throw new TlsFileError(flag, file, reason)
  }
}

function parseCerts(flag: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = splitPemCerts(pem.toString('utf8'))
  if (blocks.length === 0) throw new TlsFileError(flag, file, 'no PEM CERTIFICATE block')
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block)
    } catch (err) {
      const where = blocks.length === 1 ? '' : ` ${i + 1} of ${blocks.length}`
      throw new TlsFileError(flag, file, `cannot parse certificate${where}: ${(err as Error).message}`)
    }
  })
}
