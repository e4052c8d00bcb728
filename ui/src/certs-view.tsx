/**
 * Certificates: kubeadm's expiry table for the certificates the gateway uses, read from the expiry
 * gauges on /metrics (x509-certificate-exporter's x509_cert_not_after), coloured as they near their end.
 */
import { useState } from 'preact/hooks'
import { formatExpires, shortHumanDuration } from '../../pki/duration.js'
import { getText } from './api.js'
import { usePoll } from './poll.js'
import { parseMetrics, type Sample } from './prometheus.js'
import { TableHead } from './table-head.js'

const DAY = 86_400_000

interface Cert {
  file: string
  subject: string
  issuerCN: string
  /** hexadecimal, as openssl prints it */
  serial: string
  /** self-signed (subject = issuer): a CA, listed in kubeadm's second table */
  ca: boolean
  notAfter: Date
}

type Level = 'ok' | 'warning' | 'critical' | 'expired'

function levelOf(leftMs: number): Level {
  if (leftMs <= 0) return 'expired'
  if (leftMs < 7 * DAY) return 'critical'
  if (leftMs < 30 * DAY) return 'warning'
  return 'ok'
}

const levelText: Record<Level, string> = {
  ok: 'valid',
  warning: 'expires within 30 days',
  critical: 'expires within 7 days',
  expired: 'expired',
}

const NAME_PARTS = ['C', 'ST', 'L', 'O', 'OU', 'CN'] as const

/** The exporter's issuer_* or subject_* labels as one distinguished name, most significant part last. */
function nameOf(labels: Record<string, string>, side: 'issuer' | 'subject'): string {
  return NAME_PARTS.filter((p) => labels[`${side}_${p}`] !== undefined)
    .map((p) => `${p}=${labels[`${side}_${p}`]}`)
    .join(', ')
}

function certOf(s: Sample): Cert {
  const l = s.labels
  const subject = nameOf(l, 'subject')
  return {
    file: l.filepath ?? l.filename ?? '',
    subject,
    issuerCN: l.issuer_CN ?? '',
    serial: l.serial_number ? BigInt(l.serial_number).toString(16).toUpperCase() : '',
    ca: subject === nameOf(l, 'issuer'),
    notAfter: new Date(s.value * 1000),
  }
}

/** kubeadm names a certificate by its file: the path without its .crt. */
const certName = (file: string) => file.replace(/\.crt$|\.pem$/, '')

export function CertsView({ active }: { active: boolean }) {
  const [certs, setCerts] = useState<Cert[] | null>(null)
  const [error, setError] = useState('')
  const [now, setNow] = useState(Date.now())
  usePoll(active, 30_000, async () => {
    const res = await getText('/metrics')
    if (!res.ok) return setError(`/metrics answered HTTP ${res.status}`)
    setError('')
    setNow(Date.now())
    setCerts((parseMetrics(res.text).get('x509_cert_not_after') ?? []).map(certOf))
  })
  if (error) return <p class="error" role="alert">{error}</p>
  if (!certs) return <p>Loading…</p>
  if (certs.length === 0) return <p>This gateway uses no certificate: it serves plain HTTP, talks to no etcd over TLS and has no --pki-dir.</p>
  const leaves = certs.filter((c) => !c.ca)
  const cas = certs.filter((c) => c.ca)
  return (
    <div class="certs">
      <p class="hint">
        The certificates this gateway serves, trusts and presents, and those of the PKI directory given with <code>--pki-dir</code>, as its{' '}
        <code>/metrics</code> shows them. Warnings at 30 and 7 days.
      </p>
      <CertTable title="Certificates" certs={leaves} now={now} withCa />
      <CertTable title="Certificate authorities" certs={cas} now={now} withCa={false} />
    </div>
  )
}

/** kubeadm's two tables: certificates with their CA, then the CAs. */
function CertTable({ title, certs, now, withCa }: { title: string; certs: Cert[]; now: number; withCa: boolean }) {
  if (certs.length === 0) return null
  return (
    <table>
      <caption>{title}</caption>
      <TableHead columns={withCa ? ['Certificate', 'Expires', 'Residual time', 'Certificate authority', 'State'] : ['Certificate authority', 'Expires', 'Residual time', 'State']} />
      <tbody>
        {certs.map((c) => {
          const left = c.notAfter.getTime() - now
          const level = levelOf(left)
          return (
            <tr key={`${c.file}|${c.serial}`} class={`cert expiry-${level}`}>
              <td>
                <span class="cert-name">{certName(c.file)}</span>
                <span class="sub">{`${c.subject}; serial ${c.serial}`}</span>
              </td>
              <td>{formatExpires(c.notAfter)}</td>
              <td>{shortHumanDuration(left)}</td>
              {withCa && <td>{c.issuerCN}</td>}
              <td>
                <span class={`badge expiry-${level}`}>{levelText[level]}</span>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
