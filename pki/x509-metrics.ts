/**
 * Certificate expiry in enix/x509-certificate-exporter's metric names and labels (`x509_cert_not_before`,
 * `x509_cert_not_after`, `x509_cert_expired`, `x509_read_errors`; labels filename, filepath, serial_number
 * in decimal, and issuer_* / subject_* for the name parts a certificate has), so one alert rule serves
 * the exporter, a node-exporter textfile from `certs check-expiration -o prometheus` and etcdgw's /metrics.
 */
import { basename } from 'node:path'
import { x509 } from './x509.js'

const NAME_PARTS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const
export const X509_LABEL_NAMES = [
  'filename',
  'filepath',
  'serial_number',
  ...NAME_PARTS.map((part) => `issuer_${part}` as const),
  ...NAME_PARTS.map((part) => `subject_${part}` as const),
] as const
export type X509LabelName = (typeof X509_LABEL_NAMES)[number]
export type X509Labels = Partial<Record<X509LabelName, string>>

export const X509_METRICS = {
  notBefore: { name: 'x509_cert_not_before', help: "Indicates the certificate's not before timestamp" },
  notAfter: { name: 'x509_cert_not_after', help: "Indicates the certificate's not after timestamp" },
  expired: { name: 'x509_cert_expired', help: 'Indicates if the certificate is expired' },
  /** the exporter's relative metric (--expose-relative-metrics): only where it is computed at scrape time */
  expiresIn: { name: 'x509_cert_expires_in_seconds', help: "Indicates the remaining time before the certificate's not after timestamp" },
  readErrors: { name: 'x509_read_errors', help: 'Indicates the number of read failure(s)' },
} as const

export interface X509Sample {
  labels: X509Labels
  /** unix seconds */
  notBefore: number
  notAfter: number
  expired: 0 | 1
}

/** The exporter's sample for one certificate (DER) read from `file`. */
export function x509Sample(der: ArrayBuffer | Uint8Array, file: string, now: Date): X509Sample {
  const cert = new x509.X509Certificate(der instanceof Uint8Array ? Uint8Array.from(der).buffer : der)
  const labels: X509Labels = { filename: basename(file), filepath: file, serial_number: BigInt(`0x${cert.serialNumber}`).toString() }
  for (const part of NAME_PARTS) {
    // the exporter labels the first value of each name part and leaves absent parts out
    const issuer = cert.issuerName.getField(part)[0]
    const subject = cert.subjectName.getField(part)[0]
    if (issuer !== undefined) labels[`issuer_${part}`] = issuer
    if (subject !== undefined) labels[`subject_${part}`] = subject
  }
  return {
    labels,
    notBefore: Math.floor(cert.notBefore.getTime() / 1000),
    notAfter: Math.floor(cert.notAfter.getTime() / 1000),
    expired: now > cert.notAfter ? 1 : 0,
  }
}

/** Prometheus text format for node-exporter's textfile collector. */
export function formatX509Textfile(samples: X509Sample[], readErrors: number): string {
  let text = ''
  const family = (metric: { name: string; help: string }, value: (s: X509Sample) => number) => {
    text += `# HELP ${metric.name} ${metric.help}\n# TYPE ${metric.name} gauge\n`
    for (const sample of samples) text += `${metric.name}{${labelText(sample.labels)}} ${value(sample)}\n`
  }
  family(X509_METRICS.expired, (s) => s.expired)
  family(X509_METRICS.notAfter, (s) => s.notAfter)
  family(X509_METRICS.notBefore, (s) => s.notBefore)
  text += `# HELP ${X509_METRICS.readErrors.name} ${X509_METRICS.readErrors.help}\n# TYPE ${X509_METRICS.readErrors.name} gauge\n`
  text += `${X509_METRICS.readErrors.name} ${readErrors}\n`
  return text
}

function labelText(labels: X509Labels): string {
  return X509_LABEL_NAMES.filter((name) => labels[name] !== undefined)
    .map((name) => `${name}="${labels[name]!.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',')
}
