import { randomBytes } from 'node:crypto'
import forge from 'node-forge'
import type { CertSubject, ExtKeyUsage } from './profiles.js'
import { CA_NAME } from './profiles.js'
import { generateKey, type KeySize } from './keys.js'

/** kubeadm `CertificateBackdate`: notBefore lies 5 minutes in the past to absorb clock skew between hosts. */
export const BACKDATE_MS = 5 * 60_000
export const DEFAULT_CERT_VALIDITY_MS = 8760 * 3_600_000
export const DEFAULT_CA_VALIDITY_MS = 87600 * 3_600_000

export interface KeyPair {
  cert: forge.pki.Certificate
  key: forge.pki.rsa.PrivateKey
}

export interface IssueOptions {
  keySize: KeySize
  validityMs: number
  now: Date
}

/**
 * A serial uniform in [1, 2^63-1] like Go's `rand.Int(MaxInt64-1)+1`, as minimal DER hex: forge writes the hex
 * verbatim, so the top bit must be clear (else a negative serial) and no redundant leading zero byte may remain
 * (Go, hence etcd, rejects non-minimal INTEGERs).
 */
export function randomSerialHex(): string {
  for (;;) {
    const bytes = randomBytes(8)
    bytes[0]! &= 0x7f
    const value = bytes.readBigUInt64BE()
    if (value === 0n) continue
    let hex = value.toString(16)
    if (hex.length % 2) hex = `0${hex}`
    if (parseInt(hex[0]!, 16) >= 8) hex = `00${hex}`
    return hex
  }
}

/** kubeadm `NewSelfSignedCACert`: CN etcd-ca, DNS SAN = CN, CA:TRUE critical, keyCertSign, SKI, no AKI. */
export async function createCA(options: IssueOptions): Promise<KeyPair> {
  const key = await generateKey(options.keySize)
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e)
  cert.serialNumber = randomSerialHex()
  setValidity(cert, options)
  const subject = nameAttributes(CA_NAME, [])
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'subjectAltName', altNames: [{ type: 2, value: CA_NAME }] },
  ])
  cert.sign(key, forge.md.sha256.create())
  return { cert, key }
}

/** kubeadm `NewSignedCert`: a new key, CA:FALSE critical, digitalSignature+keyEncipherment critical, EKU, AKI = issuer SKI. */
export async function issueCert(subject: CertSubject, ca: KeyPair, options: IssueOptions): Promise<KeyPair> {
  const key = await generateKey(options.keySize)
  return { cert: signCert(subject, forge.pki.setRsaPublicKey(key.n, key.e), ca, options), key }
}

export function signCert(subject: CertSubject, publicKey: forge.pki.rsa.PublicKey, ca: KeyPair, options: Omit<IssueOptions, 'keySize'>): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  // set before the extensions: forge derives identifiers from it
  cert.publicKey = publicKey
  cert.serialNumber = randomSerialHex()
  setValidity(cert, options)
  cert.setSubject(nameAttributes(subject.commonName, subject.organization))
  cert.setIssuer(ca.cert.subject.attributes)
  const extensions: object[] = [
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    extKeyUsageExtension(subject.usages),
    { name: 'basicConstraints', critical: true, cA: false },
    // forge's `keyIdentifier: true` would hash the leaf's own key; the AKI must be the issuer's SKI
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]
  const altNames = [
    ...subject.dnsNames.map((value) => ({ type: 2, value })),
    ...subject.ipAddresses.map((ip) => ({ type: 7, ip })),
  ]
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames })
  cert.setExtensions(extensions)
  cert.sign(ca.key, forge.md.sha256.create())
  return cert
}

function extKeyUsageExtension(usages: ExtKeyUsage[]): object {
  const extension: Record<string, unknown> = { name: 'extKeyUsage' }
  for (const usage of usages) extension[usage] = true
  return extension
}

/** Go's pkix.Name order puts O before CN. */
function nameAttributes(commonName: string, organization: string[]): forge.pki.CertificateField[] {
  return [...organization.map((value) => ({ name: 'organizationName', value })), { name: 'commonName', value: commonName }]
}

function setValidity(cert: forge.pki.Certificate, { now, validityMs }: { now: Date; validityMs: number }): void {
  // X.509 times have whole seconds; truncate like Go does instead of letting the encoder round
  const start = Math.floor(now.getTime() / 1000) * 1000
  cert.validity.notBefore = new Date(start - BACKDATE_MS)
  cert.validity.notAfter = new Date(start + validityMs)
}
