/** What `etcdgw certs …` prints: kubeadm's lines where kubeadm has them, one line per file otherwise. */
import { relative } from 'node:path'
import {
  CA_NAME,
  LONG_NAMES,
  memberAltNames,
  RELOAD_ADVICE,
  shortHumanDuration,
  type AuditFinding,
  type ExpirationEntry,
  type InitReport,
  type Member,
  type RenewResult,
  type RotationStatus,
  type VerifyProblem,
} from '../../pki/index.js'

export function initLines(dir: string, member: Member, report: InitReport): { stdout: string; stderr: string } {
  let stdout = ''
  let stderr = ''
  for (const san of report.skippedSans) stderr += `[certs] WARNING: skipping "${san}": neither an IP address nor a DNS name\n`
  for (const result of report.results) {
    const base = relative(dir, result.file).replace(/\.crt$/, '')
    const what = result.name === CA_NAME ? 'certificate authority' : 'certificate and key'
    const verb = result.action === 'created' ? 'Generating' : 'Using the existing'
    stdout += `[certs] ${verb} "${base}" ${what}\n`
    if (result.action === 'created' && (result.name === 'etcd-server' || result.name === 'etcd-peer')) {
      stdout += `[certs] ${base} serving cert is signed for ${sansSentence(member, result.name)}\n`
    }
  }
  return { stdout, stderr }
}

function sansSentence(member: Member, name: 'etcd-server' | 'etcd-peer'): string {
  const { dnsNames, ipAddresses } = memberAltNames(member.nodeName, member.advertiseAddress, name === 'etcd-server' ? member.serverCertSans : member.peerCertSans)
  return `DNS names [${dnsNames.join(' ')}] and IPs [${ipAddresses.join(' ')}]`
}

/** kubeadm's renew lines: "MISSING! …", "Detected external etcd/ca, … can't be renewed", "… renewed". */
export function renewLine(result: RenewResult): string {
  switch (result.status) {
    case 'missing':
      return `MISSING! ${LONG_NAMES[result.name]} (${result.file})\n`
    case 'external-ca':
      return `Detected external etcd/ca, ${LONG_NAMES[result.name]} can't be renewed\n`
    case 'renewed':
      return `${LONG_NAMES[result.name]} renewed (${result.name}, serial ${result.serial}): ${RELOAD_ADVICE[result.name]}\n`
  }
}

export const RENEW_DONE = '\nDone renewing certificates. Renew on every member: server and peer certificates are per node, never copy them.\n'

export function attentionLines(entries: ExpirationEntry[]): string {
  return entries
    .map((entry) => `${entry.name}: ${entry.missing ? 'missing' : entry.residualTime < 0 ? 'expired' : `expires in ${shortHumanDuration(entry.residualTime * 1000)}`}\n`)
    .join('')
}

export function rotationStatusText(status: RotationStatus): string {
  const signer = { current: 'signed by the current signer', previous: 'signed by an older CA', missing: 'missing' }
  return `stage: ${status.stage}\ntrusted CAs (signer first): ${status.trustedSerials.join(', ')}\n${status.leaves.map((leaf) => `${leaf.name}: ${signer[leaf.signer]}\n`).join('')}`
}

export function verifyText(problems: VerifyProblem[], findings: AuditFinding[]): string {
  return [
    ...problems.map((p) => `${p.file}: ${p.reason}\n`),
    ...findings.map((f) => `[${f.severity}] ${f.file}: ${f.problem}\n  fix: ${f.fix}\n`),
  ].join('')
}

export function verifyJson(problems: VerifyProblem[], findings: AuditFinding[]): string {
  return `${JSON.stringify({ problems, findings }, null, 2)}\n`
}
