/**
 * Certificate expiry made visible: Prometheus gauges for every certificate in use (computed at scrape time)
 * and the warning text for those close to their end.
 */
import { X509Certificate } from 'node:crypto'
import { Gauge } from 'prom-client'
import { registry } from '../metrics.js'

export interface CertInUse {
  /** served: the server certificate; trusted_ca: a CA client certificates may chain to; client: a certificate we present */
  role: 'served' | 'trusted_ca' | 'client'
  file: string
  cert: X509Certificate
}

const DAY_MS = 86_400_000
export const EXPIRY_WARNING_MS = 30 * DAY_MS

const sources = new Set<() => CertInUse[]>()
const labelNames = ['role', 'file', 'subject', 'serial', 'issuer'] as const

function labelsOf(c: CertInUse): Record<(typeof labelNames)[number], string> {
  return { role: c.role, file: c.file, subject: dnLine(c.cert.subject), serial: c.cert.serialNumber.toUpperCase(), issuer: dnLine(c.cert.issuer) }
}

function collectEach(gauge: Gauge<(typeof labelNames)[number]>, value: (c: CertInUse) => number): void {
  gauge.reset()
  for (const source of sources) for (const c of source()) gauge.set(labelsOf(c), value(c))
}

new Gauge({
  name: 'etcdgw_tls_certificate_not_after_seconds',
  help: 'End of validity (unix seconds) of each certificate in use',
  labelNames,
  registers: [registry],
  collect() {
    collectEach(this, (c) => notAfter(c.cert) / 1000)
  },
})

new Gauge({
  name: 'etcdgw_tls_certificate_expires_in_seconds',
  help: 'Seconds until each certificate in use expires (negative once expired)',
  labelNames,
  registers: [registry],
  collect() {
    const now = Date.now()
    collectEach(this, (c) => Math.round((notAfter(c.cert) - now) / 1000))
  },
})

/** Adds certificates to the gauges; `source` is asked at every scrape. Returns the function that removes them. */
export function trackCertificates(source: () => CertInUse[]): () => void {
  sources.add(source)
  return () => sources.delete(source)
}

/** One message per certificate that has expired or expires within 30 days of `now`. */
export function expiryWarnings(certs: CertInUse[], now: Date): string[] {
  const warnings: string[] = []
  for (const c of certs) {
    const left = notAfter(c.cert) - now.getTime()
    if (left >= EXPIRY_WARNING_MS) continue
    const what = `${c.role.replace('_', ' ')} certificate ${c.file} (${dnLine(c.cert.subject)}, serial ${c.cert.serialNumber.toUpperCase()})`
    const end = new Date(notAfter(c.cert)).toISOString()
    warnings.push(left <= 0 ? `${what} expired at ${end}` : `${what} expires in ${Math.floor(left / DAY_MS)} days, at ${end}`)
  }
  return warnings
}

function notAfter(cert: X509Certificate): number {
  return Date.parse(cert.validTo)
}

/** A distinguished name on one line, as `openssl x509 -subject` prints it in RFC 2253-like order. */
function dnLine(dn: string): string {
  return dn.split('\n').join(', ')
}
