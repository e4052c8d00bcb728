import { readFile, stat } from 'node:fs/promises'
import forge from 'node-forge'
import { writeFileAtomic } from './atomic-write.js'
import { PkiError } from './errors.js'
import type { KeyPair } from './issue.js'
import { keyFromPem, keyToPem } from './keys.js'
import type { CertFiles } from './layout.js'

/** client-go modes: keys 0600, certificates 0644. */
export const KEY_MODE = 0o600
export const CERT_MODE = 0o644

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** forge ends PEM lines with CRLF; Go's encoding/pem (and so every kubeadm file) uses LF. */
export function certToPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n')
}

export function splitPemCerts(text: string): string[] {
  return text.match(PEM_CERT)?.map((block) => `${block}\n`) ?? []
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new PkiError(file, `cannot read: ${(err as Error).message}`)
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`
    throw new PkiError(file, reason)
  }
}

/** Every certificate in a PEM file; a CA file may hold a bundle (signer first). */
export async function readCertBundle(file: string): Promise<forge.pki.Certificate[]> {
  const blocks = splitPemCerts(await readText(file))
  if (blocks.length === 0) throw new PkiError(file, 'no PEM CERTIFICATE block')
  return blocks.map((pem) => {
    try {
      return forge.pki.certificateFromPem(pem)
    } catch (err) {
      throw new PkiError(file, `cannot parse certificate: ${(err as Error).message}`)
    }
  })
}

/** The first certificate of a file, as kubeadm's `TryLoadCertFromDisk` takes it. */
export async function readCert(file: string): Promise<forge.pki.Certificate> {
  return (await readCertBundle(file))[0]!
}

export async function readKey(file: string): Promise<forge.pki.rsa.PrivateKey> {
  const pem = await readText(file)
  try {
    return keyFromPem(pem)
  } catch (err) {
    throw new PkiError(file, `cannot parse private key: ${(err as Error).message}`)
  }
}

export async function readKeyPair(files: CertFiles): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readCert(files.cert), readKey(files.key)])
  if (!keyMatchesCert(key, cert)) throw new PkiError(files.key, `private key does not match the certificate in ${files.cert}`)
  return { cert, key }
}

export function keyMatchesCert(key: forge.pki.rsa.PrivateKey, cert: forge.pki.Certificate): boolean {
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey
  return publicKey.n !== undefined && publicKey.n.equals(key.n) && publicKey.e.equals(key.e)
}

/** The key first, then the certificate (kubeadm `WriteCertAndKey`), so a certificate on disk always has its key. */
export async function writeKeyPair(files: CertFiles, pair: KeyPair, extraCerts: forge.pki.Certificate[] = []): Promise<void> {
  await writeFileAtomic(files.key, keyToPem(pair.key), KEY_MODE)
  await writeCertFile(files.cert, [pair.cert, ...extraCerts])
}

export async function writeCertFile(file: string, certs: forge.pki.Certificate[]): Promise<void> {
  await writeFileAtomic(file, certs.map(certToPem).join(''), CERT_MODE)
}
