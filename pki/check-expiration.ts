import { PkiError } from './errors.js'
import { fileExists, isExternalCA, readCert, readCertBundle } from './files.js'
import { formatExpires, shortHumanDuration } from './duration.js'
import { filesOf } from './layout.js'
import { CA_NAME, LEAF_NAMES } from './profiles.js'
import { formatTabbed } from './tabwriter.js'
import { formatX509Textfile, x509Sample, type X509Sample } from './x509-metrics.js'

/** One row of `kubeadm certs check-expiration` (output.kubeadm.k8s.io/v1alpha3 `Certificate`). */
export interface ExpirationEntry {
  name: string
  /** notAfter; null when the file is missing */
  expirationDate: Date | null
  /** whole seconds until expiry, negative once expired; 0 when missing */
  residualTime: number
  externallyManaged: boolean
  /** the signing CA's name; absent for CAs and for missing certificates */
  caName?: string
  missing: boolean
}

export interface ExpirationInfo {
  certificates: ExpirationEntry[]
  certificateAuthorities: ExpirationEntry[]
}

export async function readExpirationInfo(dir: string, now: Date): Promise<ExpirationInfo> {
  const certificates: ExpirationEntry[] = []
  // kubeadm's IsExternallyManaged: the CA certificate is there, its key is not
  const external = await isExternalCA(dir)
  // kubeadm lists certificates and CAs sorted by name; LEAF_NAMES is in that order
  for (const name of LEAF_NAMES) certificates.push(await entry(name, filesOf(dir, name).cert, now, external, CA_NAME))
  return { certificates, certificateAuthorities: [await entry(CA_NAME, filesOf(dir, CA_NAME).cert, now, external)] }
}

async function entry(name: string, file: string, now: Date, externallyManaged: boolean, caName?: string): Promise<ExpirationEntry> {
  if (!(await fileExists(file))) return { name, expirationDate: null, residualTime: 0, externallyManaged: false, missing: true }
  const cert = await readCert(file)
  const expirationDate = cert.notAfter
  if (Number.isNaN(expirationDate.getTime())) throw new PkiError(file, 'certificate has no valid notAfter date')
  return {
    name,
    expirationDate,
    residualTime: Math.trunc((expirationDate.getTime() - now.getTime()) / 1000),
    externallyManaged,
    ...(caName === undefined ? {} : { caName }),
    missing: false,
  }
}

/** Whether a cron job or monitor should alert: anything missing, expired, or expiring within `warnMs`. */
export function needsAttention(info: ExpirationInfo, warnMs: number): ExpirationEntry[] {
  return [...info.certificates, ...info.certificateAuthorities].filter((e) => e.missing || e.residualTime * 1000 < warnMs)
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no').padEnd(8, ' ')

/** kubeadm's text table, byte for byte (text/tabwriter minwidth 10, padding 3). */
export function formatExpirationText(info: ExpirationInfo, now: Date): string {
  let text = 'CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED\n'
  for (const e of info.certificates) {
    text += e.missing
      ? `!MISSING! ${e.name}\t\t\t\t\n`
      : `${e.name}\t${formatExpires(e.expirationDate!)}\t${residual(e, now)}\t${e.caName ?? ''}\t${yesNo(e.externallyManaged)}\n`
  }
  text += '\nCERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\n'
  for (const e of info.certificateAuthorities) {
    text += e.missing
      ? `!MISSING! ${e.name}\t\t\t\n`
      : `${e.name}\t${formatExpires(e.expirationDate!)}\t${residual(e, now)}\t${yesNo(e.externallyManaged)}\n`
  }
  return formatTabbed(text, { minWidth: 10, padding: 3 })
}

function residual(e: ExpirationEntry, now: Date): string {
  return shortHumanDuration(e.expirationDate!.getTime() - now.getTime())
}

interface WireEntry {
  name: string
  expirationDate: string | null
  residualTime: number
  externallyManaged: boolean
  caName?: string
  missing: boolean
}

function wireDocument(info: ExpirationInfo) {
  const wire = (e: ExpirationEntry): WireEntry => ({
    name: e.name,
    // metav1.Time: RFC 3339 in UTC with whole seconds
    expirationDate: e.expirationDate === null ? null : e.expirationDate.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    residualTime: e.residualTime,
    externallyManaged: e.externallyManaged,
    ...(e.caName === undefined ? {} : { caName: e.caName }),
    missing: e.missing,
  })
  return {
    kind: 'CertificateExpirationInfo',
    apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
    certificates: info.certificates.map(wire),
    certificateAuthorities: info.certificateAuthorities.map(wire),
  }
}

/** kubectl's JSON printer: 4-space indent and a final newline. */
export function formatExpirationJson(info: ExpirationInfo): string {
  return `${JSON.stringify(wireDocument(info), null, 4)}\n`
}

/**
 * kubectl's YAML printer (sigs.k8s.io/yaml over go-yaml v2): keys sorted, sequences not indented under their key,
 * strings that would read back as another type (timestamps) double-quoted.
 */
export function formatExpirationYaml(info: ExpirationInfo): string {
  const doc = wireDocument(info)
  const scalar = (value: unknown): string => {
    if (value === null) return 'null'
    if (typeof value === 'string') return /^\d{4}-\d{2}-\d{2}T/.test(value) ? `"${value}"` : value
    return String(value)
  }
  const mapping = (obj: object, indent: string, firstPrefix: string): string[] => {
    const keys = Object.keys(obj).sort()
    const lines: string[] = []
    keys.forEach((key, i) => {
      const value = (obj as Record<string, unknown>)[key]
      const prefix = i === 0 ? firstPrefix : indent
      if (Array.isArray(value)) {
        if (value.length === 0) lines.push(`${prefix}${key}: []`)
        else {
          lines.push(`${prefix}${key}:`)
          for (const item of value) lines.push(...mapping(item as object, `${indent}  `, `${indent}- `))
        }
      } else lines.push(`${prefix}${key}: ${scalar(value)}`)
    })
    return lines
  }
  return `${mapping(doc, '', '').join('\n')}\n`
}

/**
 * `-o prometheus`: every certificate of the five files (each one of a CA bundle) as x509-certificate-exporter
 * samples; a missing or unreadable file counts in x509_read_errors, as a watched file would in the exporter.
 */
export async function formatExpirationPrometheus(dir: string, now: Date): Promise<string> {
  const samples: X509Sample[] = []
  let readErrors = 0
  for (const name of [CA_NAME, ...LEAF_NAMES] as const) {
    const file = filesOf(dir, name).cert
    try {
      for (const cert of await readCertBundle(file)) samples.push(x509Sample(cert.rawData, file, now))
    } catch {
      readErrors++
    }
  }
  return formatX509Textfile(samples, readErrors)
}
