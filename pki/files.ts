import { createPrivateKey, type KeyObject } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { writeFileAtomic, writeFilesAtomic } from './atomic-write.js'
import { PkiError } from './errors.js'
import type { KeyPair } from './issue.js'
import { describeKey, keyFromPem, keyToPem, keyTypeOf, publicKeyDer, type KeyType } from './keys.js'
import { filesOf, type CertFiles } from './layout.js'
import { CA_NAME } from './profiles.js'
import { x509, type Certificate } from './x509.js'

/** client-go modes: keys 0600, certificates 0644. */
export const KEY_MODE = 0o600
export const CERT_MODE = 0o644

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** Go's encoding/pem form, as in every kubeadm file: 64-column lines, LF, a final newline. */
export function pemOf(item: Certificate | x509.Pkcs10CertificateRequest): string {
  return `${item.toString('pem').replace(/\r\n/g, '\n').trimEnd()}\n`
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
export async function readCertBundle(file: string): Promise<Certificate[]> {
  const blocks = splitPemCerts(await readText(file))
  if (blocks.length === 0) throw new PkiError(file, 'no PEM CERTIFICATE block')
  return blocks.map((pem) => {
    try {
      return new x509.X509Certificate(pem)
    } catch (err) {
      throw new PkiError(file, `cannot parse certificate: ${(err as Error).message}`)
    }
  })
}

/** The first certificate of a file, as kubeadm's `TryLoadCertFromDisk` takes it. */
export async function readCert(file: string): Promise<Certificate> {
  return (await readCertBundle(file))[0]!
}

export async function readKey(file: string): Promise<KeyObject> {
  const pem = await readText(file)
  try {
    return keyFromPem(pem)
  } catch (err) {
    throw new PkiError(file, `cannot parse private key: ${(err as Error).message}`)
  }
}

/** The type of the key in `file`, for a replacement of the same type; a key no profile allows needs --key-type. */
export async function keyTypeIn(file: string): Promise<KeyType> {
  let key: KeyObject
  try {
    key = createPrivateKey(await readText(file))
  } catch (err) {
    if (err instanceof PkiError) throw err
    throw new PkiError(file, `cannot parse private key: ${(err as Error).message}`)
  }
  const type = keyTypeOf(key)
  if (type === undefined) throw new PkiError(file, `holds an ${describeKey(key)} key; pass --key-type for the new key`)
  return type
}

export async function readKeyPair(files: CertFiles): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readCert(files.cert), readKey(files.key)])
  if (!keyMatchesCert(key, cert)) throw new PkiError(files.key, `private key does not match the certificate in ${files.cert}`)
  return { cert, key }
}

export function keyMatchesCert(key: KeyObject, cert: Certificate): boolean {
  return publicKeyDer(key).equals(Buffer.from(cert.publicKey.rawData))
}

const certsPem = (certs: Certificate[]) => certs.map(pemOf).join('')

/**
 * The key first, then the certificate (kubeadm `WriteCertAndKey`), so a certificate on disk always has its
 * key; both are complete on disk before either replaces its old file, so a running etcd that loads the pair
 * for a handshake meanwhile finds it mixed only between two renames.
 */
export async function writeKeyPair(files: CertFiles, pair: KeyPair, extraCerts: Certificate[] = []): Promise<void> {
  await writeFilesAtomic([
    { path: files.key, data: keyToPem(pair.key), mode: KEY_MODE },
    { path: files.cert, data: certsPem([pair.cert, ...extraCerts]), mode: CERT_MODE },
  ])
}

export async function writeCertFile(file: string, certs: Certificate[]): Promise<void> {
  await writeFileAtomic(file, certsPem(certs), CERT_MODE)
}

/** kubeadm's external-CA mode: etcd/ca.crt is present and etcd/ca.key is not; certificates are signed elsewhere. */
export async function isExternalCA(dir: string): Promise<boolean> {
  const ca = filesOf(dir, CA_NAME)
  return (await fileExists(ca.cert)) && !(await fileExists(ca.key))
}
