/**
 * Certificate expiry made visible: Prometheus gauges for every certificate in use (computed at scrape time,
 * in x509-certificate-exporter's names and labels) and the warning text for those close to their end.
 */
import { X509Certificate } from 'node:crypto'
import { Gauge } from 'prom-client'
import { x509Sample, X509_LABEL_NAMES, X509_METRICS, type X509Sample } from '../../pki/index.js'
import { registry } from '../metrics.js'

export interface CertInUse {
  /**
   * served: the server certificate; trusted_ca: a CA client certificates may chain to; client: a certificate
   * we present; pki: one of the --pki-dir directory's
   */
  role: 'served' | 'trusted_ca' | 'client' | 'pki'
  file: string
  cert: X509Certificate
}

const DAY_MS = 86_400_000
export const EXPIRY_WARNING_MS = 30 * DAY_MS

const sources = new Set<() => CertInUse[]>()

/** One gauge per x509-certificate-exporter metric, so the exporter's alert rules serve etcdgw too. */
function x509Gauge(metric: { name: string; help: string }, value: (s: X509Sample, now: Date) => number): void {
  new Gauge({
    name: metric.name,
    help: metric.help,
    labelNames: X509_LABEL_NAMES,
    registers: [registry],
    collect() {
      this.reset()
      const now = new Date()
      for (const source of sources) for (const c of source()) {
        const sample = x509Sample(c.cert.raw, c.file, now)
        this.set(sample.labels, value(sample, now))
      }
    },
  })
}

x509Gauge(X509_METRICS.notBefore, (s) => s.notBefore)
x509Gauge(X509_METRICS.notAfter, (s) => s.notAfter)
x509Gauge(X509_METRICS.expired, (s) => s.expired)
x509Gauge(X509_METRICS.expiresIn, (s, now) => s.notAfter - Math.floor(now.getTime() / 1000))

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
    const what = `${c.role.replace('_', ' ')} certificate ${c.file} (${subjectLine(c.cert)}, serial ${c.cert.serialNumber.toUpperCase()})`
    const end = new Date(notAfter(c.cert)).toISOString()
    warnings.push(left <= 0 ? `${what} expired at ${end}` : `${what} expires in ${Math.floor(left / DAY_MS)} days, at ${end}`)
  }
  return warnings
}

function notAfter(cert: X509Certificate): number {
  return Date.parse(cert.validTo)
}

function subjectLine(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ')
}
