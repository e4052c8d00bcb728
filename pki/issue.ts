import { randomBytes, type KeyObject } from 'node:crypto'
import type { CertSubject, ExtKeyUsage } from './profiles.js'
import { CA_NAME } from './profiles.js'
import { cryptoKeys, generateKey, signingAlgorithm, type KeyType } from './keys.js'
import { x509, type Certificate } from './x509.js'

/** kubeadm `CertificateBackdate`: notBefore lies 5 minutes in the past to absorb clock skew between hosts. */
export const BACKDATE_MS = 5 * 60_000
export const DEFAULT_CERT_VALIDITY_MS = 8760 * 3_600_000
export const DEFAULT_CA_VALIDITY_MS = 87600 * 3_600_000

export interface KeyPair {
  cert: Certificate
  key: KeyObject
}

export interface IssueOptions {
  keyType: KeyType
  validityMs: number
  now: Date
}

/**
 * A serial uniform in [1, 2^63-1] like Go's `rand.Int(MaxInt64-1)+1`, as minimal DER hex: the hex is written
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

export const EKU_OID: Record<ExtKeyUsage, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' }

/** What kubeadm's `NewSignedCert` sets on every leaf (keyEncipherment even for ECDSA keys, as kubeadm does). */
export const LEAF_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment
const CA_KEY_USAGE = LEAF_KEY_USAGE | x509.KeyUsageFlags.keyCertSign

/** kubeadm `NewSelfSignedCACert`: CN etcd-ca, DNS SAN = CN, CA:TRUE critical, keyCertSign, SKI, no AKI. */
export async function createCA(options: IssueOptions): Promise<KeyPair> {
  const key = await generateKey(options.keyType)
  const keys = await cryptoKeys(key)
  const name = nameOf(CA_NAME, [])
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: name,
    issuer: name,
    ...validity(options),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signingAlgorithm(key),
    extensions: [
      new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: CA_NAME }]),
    ],
  })
  return { cert, key }
}

/** kubeadm `NewSignedCert`: a new key, CA:FALSE critical, digitalSignature+keyEncipherment critical, EKU, AKI = issuer SKI. */
export async function issueCert(subject: CertSubject, ca: KeyPair, options: IssueOptions): Promise<KeyPair> {
  const key = await generateKey(options.keyType)
  return { cert: await signCert(subject, (await cryptoKeys(key)).publicKey, ca, options), key }
}

/** Signs a leaf for a public key held elsewhere (a CSR's, or a fresh one's). */
export async function signCert(subject: CertSubject, publicKey: CryptoKey, ca: KeyPair, options: Omit<IssueOptions, 'keyType'>): Promise<Certificate> {
  const signer = await cryptoKeys(ca.key)
  const caSki = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId
  const extensions: x509.Extension[] = [
    new x509.KeyUsagesExtension(LEAF_KEY_USAGE, true),
    new x509.ExtendedKeyUsageExtension(subject.usages.map((u) => EKU_OID[u]), false),
    new x509.BasicConstraintsExtension(false, undefined, true),
    // kubeadm's CA always has an SKI; an imported CA without one gets an AKI from its key, as Go does
    caSki ? new x509.AuthorityKeyIdentifierExtension(caSki) : await x509.AuthorityKeyIdentifierExtension.create(signer.publicKey),
  ]
  const altNames = altNamesOf(subject)
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames))
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(),
    subject: nameOf(subject.commonName, subject.organization),
    issuer: ca.cert.subjectName,
    ...validity(options),
    publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signingAlgorithm(ca.key),
    extensions,
  })
}

export function altNamesOf(subject: Pick<CertSubject, 'dnsNames' | 'ipAddresses'>): x509.JsonGeneralName[] {
  return [...subject.dnsNames.map((value) => ({ type: 'dns' as const, value })), ...subject.ipAddresses.map((value) => ({ type: 'ip' as const, value }))]
}

/** Go's pkix.Name order puts O before CN. */
export function nameOf(commonName: string, organization: string[]): x509.JsonName {
  return [...organization.map((o) => ({ O: [o] })), { CN: [commonName] }]
}

function validity({ now, validityMs }: { now: Date; validityMs: number }): { notBefore: Date; notAfter: Date } {
  // X.509 times have whole seconds; truncate like Go does instead of letting the encoder round
  const start = Math.floor(now.getTime() / 1000) * 1000
  return { notBefore: new Date(start - BACKDATE_MS), notAfter: new Date(Math.floor((start + validityMs) / 1000) * 1000) }
}
