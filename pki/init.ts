import { PkiError } from './errors.js'
import { fileExists, readKeyPair, writeKeyPair } from './files.js'
import { isCA, isSignedBy, subjectOf } from './inspect.js'
import type { Certificate } from './x509.js'
import { createCA, issueCert, type KeyPair } from './issue.js'
import type { KeyType } from './keys.js'
import { filesOf, type CertFiles } from './layout.js'
import { CA_NAME, leafSubject, memberAltNames, type CertSubject, type LeafName, type Member } from './profiles.js'

export interface InitOptions {
  dir: string
  member: Member
  keyType: KeyType
  /** the CA's key type when it differs from the leaves' */
  caKeyType?: KeyType
  certValidityMs: number
  caValidityMs: number
  now: Date
  /** Replace existing files instead of keeping them. */
  force?: boolean
}

export interface InitResult {
  name: LeafName | typeof CA_NAME
  file: string
  action: 'created' | 'kept'
}

export interface InitReport {
  results: InitResult[]
  /** Extra SANs that are neither an IP nor a DNS name, left out as kubeadm does. */
  skippedSans: string[]
}

/**
 * `kubeadm init phase certs etcd-*` for one member: the CA and the four leaves. Existing files are kept when
 * they are usable for this member (key matches, signed by the CA, SANs cover the member, not expired); files
 * that exist but are not usable are an error unless `force` is set, as in kubeadm.
 */
export async function initPki(options: InitOptions): Promise<InitReport> {
  const { dir, member, force = false } = options
  const skippedSans = [
    ...memberAltNames(member.nodeName, member.advertiseAddress, member.serverCertSans).skipped,
    ...memberAltNames(member.nodeName, member.advertiseAddress, member.peerCertSans).skipped,
  ]
  const results: InitResult[] = []
  const caFiles = filesOf(dir, CA_NAME)
  let ca: KeyPair
  if (!force && (await existingPair(caFiles))) {
    ca = await readKeyPair(caFiles)
    if (!isCA(ca.cert)) throw new PkiError(caFiles.cert, 'exists but is not a CA certificate (use --force to replace it)')
    results.push({ name: CA_NAME, file: caFiles.cert, action: 'kept' })
  } else {
    ca = await createCA({ keyType: options.caKeyType ?? options.keyType, validityMs: options.caValidityMs, now: options.now })
    await writeKeyPair(caFiles, ca)
    results.push({ name: CA_NAME, file: caFiles.cert, action: 'created' })
  }

  for (const name of CREATION_ORDER) {
    const files = filesOf(dir, name)
    const subject = leafSubject(name, member)
    if (!force && (await existingPair(files))) {
      const existing = await readKeyPair(files)
      const problem = unusableBecause(existing.cert, subject, ca.cert, options.now)
      if (problem) throw new PkiError(files.cert, `${problem} (use --force to replace it)`)
      results.push({ name, file: files.cert, action: 'kept' })
      continue
    }
    const pair = await issueCert(subject, ca, { keyType: options.keyType, validityMs: options.certValidityMs, now: options.now })
    await writeKeyPair(files, pair)
    results.push({ name, file: files.cert, action: 'created' })
  }
  return { results, skippedSans }
}

/** The order kubeadm's `init phase certs` creates them in. */
const CREATION_ORDER: readonly LeafName[] = ['etcd-server', 'etcd-peer', 'etcd-healthcheck-client', 'apiserver-etcd-client']

/** Both files present → true; neither → false; only one → an error naming the missing one. */
async function existingPair(files: CertFiles): Promise<boolean> {
  const [cert, key] = await Promise.all([fileExists(files.cert), fileExists(files.key)])
  if (cert && !key) throw new PkiError(files.key, `not found, but ${files.cert} exists (use --force to replace both)`)
  if (key && !cert) throw new PkiError(files.cert, `not found, but ${files.key} exists (use --force to replace both)`)
  return cert && key
}

function unusableBecause(cert: Certificate, wanted: CertSubject, ca: Certificate, now: Date): string | undefined {
  if (!isSignedBy(cert, ca)) return 'exists but is not signed by the etcd CA'
  if (cert.notAfter.getTime() <= now.getTime()) return `exists but expired on ${cert.notAfter.toISOString()}`
  const have = subjectOf(cert)
  const missingDns = wanted.dnsNames.filter((n) => !have.dnsNames.includes(n))
  const missingIps = wanted.ipAddresses.filter((ip) => !have.ipAddresses.includes(ip))
  if (missingDns.length + missingIps.length > 0) return `exists but lacks the SANs ${[...missingDns, ...missingIps].join(', ')}`
  return undefined
}
