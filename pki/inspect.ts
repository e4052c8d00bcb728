import { X509Certificate } from 'node:crypto'
import { EKU_OID } from './issue.js'
import type { CertSubject, ExtKeyUsage } from './profiles.js'
import { x509, type Certificate } from './x509.js'

/** Reading facts back out of a certificate: what renewal copies and what checks compare. */
export function subjectOf(cert: Certificate): CertSubject {
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? []
  return {
    commonName: cert.subjectName.getField('CN')[0] ?? '',
    organization: cert.subjectName.getField('O'),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    usages: usagesOf(cert),
  }
}

export function usagesOf(cert: Certificate): ExtKeyUsage[] {
  const oids = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String) ?? []
  return (Object.keys(EKU_OID) as ExtKeyUsage[]).filter((usage) => oids.includes(EKU_OID[usage]))
}

export function isCA(cert: Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true
}

/** Node's view of the same certificate: TLS-style checks (signature, issuer, host and IP matching). */
export function nodeCert(cert: Certificate): X509Certificate {
  return new X509Certificate(Buffer.from(cert.rawData))
}

/** Issuer name matches the CA's subject and the CA's key made the signature. */
export function isSignedBy(cert: Certificate, ca: Certificate): boolean {
  const leaf = nodeCert(cert)
  const signer = nodeCert(ca)
  return leaf.checkIssued(signer) && leaf.verify(signer.publicKey)
}

export function serialOf(cert: Certificate): string {
  return cert.serialNumber.replace(/^(00)+(?=.)/, '').toUpperCase()
}

export function sameCert(a: Certificate, b: Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData))
}
