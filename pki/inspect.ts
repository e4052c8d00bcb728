import forge from 'node-forge'
import type { CertSubject, ExtKeyUsage } from './profiles.js'

/** Reading facts back out of a forge certificate: what renewal copies and what checks compare. */
interface AltNameEntry {
  type: number
  value?: string
  ip?: string
}

export function subjectOf(cert: forge.pki.Certificate): CertSubject {
  const commonName = String(cert.subject.getField('CN')?.value ?? '')
  const organization = cert.subject.attributes.filter((a) => a.shortName === 'O').map((a) => String(a.value))
  const altNames = (cert.getExtension('subjectAltName') as { altNames?: AltNameEntry[] } | null)?.altNames ?? []
  const eku = cert.getExtension('extKeyUsage') as Record<string, unknown> | null
  const usages = (['serverAuth', 'clientAuth'] as const).filter((usage) => eku?.[usage] === true)
  return {
    commonName,
    organization,
    dnsNames: altNames.filter((n) => n.type === 2).map((n) => n.value!),
    ipAddresses: altNames.filter((n) => n.type === 7 && n.ip !== undefined).map((n) => n.ip!),
    usages: usages as ExtKeyUsage[],
  }
}

export function isCA(cert: forge.pki.Certificate): boolean {
  return (cert.getExtension('basicConstraints') as { cA?: boolean } | null)?.cA === true
}

/** Issuer name matches the CA's subject and the CA's key made the signature. */
export function isSignedBy(cert: forge.pki.Certificate, ca: forge.pki.Certificate): boolean {
  try {
    return ca.verify(cert)
  } catch {
    return false
  }
}

export function serialOf(cert: forge.pki.Certificate): string {
  return cert.serialNumber.replace(/^(00)+(?=.)/, '').toUpperCase()
}
