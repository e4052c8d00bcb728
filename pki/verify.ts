import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { splitPemCerts } from './files.js'
import { EKU_OID, LEAF_KEY_USAGE } from './issue.js'
import { x509 } from './x509.js'
import { filesOf } from './layout.js'
import { CA_NAME, LEAF_NAMES, LEAF_USAGES, type ExtKeyUsage, type LeafName } from './profiles.js'

export interface VerifyProblem {
  file: string
  reason: string
}

export interface VerifyOptions {
  dir: string
  now: Date
  /** a DNS name the server and peer certificates must cover */
  host?: string
  /** an IP address the server and peer certificates must cover */
  ip?: string
  /** check only these certificates (default: all four leaves) */
  names?: LeafName[]
}

/**
 * Checks a kubeadm-shaped tree the way a TLS peer would judge it: the CA file, then each leaf's key, chain,
 * key usages, SANs and validity. Returns every problem found (empty = all good), each naming its file.
 */
export async function verifyPki(options: VerifyOptions): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = []
  const caFiles = filesOf(options.dir, CA_NAME)
  const cas = await loadCAs(caFiles.cert, caFiles.key, options.now, problems)
  for (const name of options.names ?? LEAF_NAMES) {
    const files = filesOf(options.dir, name)
    const coversNames = name === 'etcd-server' || name === 'etcd-peer'
    problems.push(
      ...(await verifyCertFile({
        cert: files.cert,
        key: files.key,
        cas,
        caFile: caFiles.cert,
        usages: LEAF_USAGES[name],
        now: options.now,
        ...(coversNames && options.host !== undefined ? { host: options.host } : {}),
        ...(coversNames && options.ip !== undefined ? { ip: options.ip } : {}),
      })),
    )
  }
  return problems
}

async function loadCAs(certFile: string, keyFile: string, now: Date, problems: VerifyProblem[]): Promise<X509Certificate[]> {
  let text: string
  try {
    text = await readFile(certFile, 'utf8')
  } catch (err) {
    problems.push({ file: certFile, reason: readFailure(err) })
    return []
  }
  const cas: X509Certificate[] = []
  for (const [i, pem] of splitPemCerts(text).entries()) {
    const where = i === 0 ? '' : ` (certificate ${i + 1} of the bundle)`
    let ca: X509Certificate
    try {
      ca = new X509Certificate(pem)
    } catch (err) {
      problems.push({ file: certFile, reason: `cannot parse certificate${where}: ${(err as Error).message}` })
      continue
    }
    if (!ca.ca) problems.push({ file: certFile, reason: `not a CA certificate (basicConstraints CA:FALSE)${where}` })
    const validity = validityProblem(ca, now)
    if (validity) problems.push({ file: certFile, reason: `${validity}${where}` })
    cas.push(ca)
  }
  if (cas.length === 0 && !problems.some((p) => p.file === certFile)) problems.push({ file: certFile, reason: 'no PEM CERTIFICATE block' })
  if (cas[0]) {
    const keyProblem = await keyProblemFor(cas[0], keyFile, { optional: true })
    if (keyProblem) problems.push({ file: keyFile, reason: keyProblem })
  }
  return cas
}

export interface CertFileCheck {
  cert: string
  key: string
  cas: X509Certificate[]
  caFile: string
  usages: ExtKeyUsage[]
  now: Date
  host?: string
  ip?: string
}

export async function verifyCertFile(check: CertFileCheck): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = []
  const fail = (reason: string) => problems.push({ file: check.cert, reason })
  let cert: X509Certificate
  try {
    cert = new X509Certificate(await readFile(check.cert))
  } catch (err) {
    fail((err as NodeJS.ErrnoException).code ? readFailure(err) : `cannot parse certificate: ${(err as Error).message}`)
    return problems
  }
  const keyProblem = await keyProblemFor(cert, check.key, { optional: false })
  if (keyProblem) problems.push({ file: check.key, reason: keyProblem })

  if (check.cas.length > 0 && !check.cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))) {
    fail(`not signed by any CA in ${check.caFile} (issuer ${cert.issuer.replace(/\n/g, ', ')})`)
  }
  const validity = validityProblem(cert, check.now)
  if (validity) fail(validity)
  if (cert.ca) fail('is a CA certificate, expected a leaf')

  const ekus = cert.keyUsage ?? []
  const lacking = check.usages.filter((usage) => !ekus.includes(EKU_OID[usage]))
  if (lacking.length > 0) fail(`extended key usage lacks ${lacking.join(', ')} (has ${ekuNames(ekus)})`)
  const keyUsage = new x509.X509Certificate(cert.raw).getExtension(x509.KeyUsagesExtension)?.usages ?? 0
  if ((keyUsage & LEAF_KEY_USAGE) !== LEAF_KEY_USAGE) fail('key usage lacks digitalSignature or keyEncipherment')

  if (check.host !== undefined && cert.checkHost(check.host) === undefined) {
    fail(`does not cover host ${check.host} (SANs: ${cert.subjectAltName ?? 'none'})`)
  }
  if (check.ip !== undefined && cert.checkIP(check.ip) === undefined) {
    fail(`does not cover IP ${check.ip} (SANs: ${cert.subjectAltName ?? 'none'})`)
  }
  return problems
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const notBefore = new Date(cert.validFrom)
  const notAfter = new Date(cert.validTo)
  if (now < notBefore) return `not valid before ${notBefore.toISOString()}`
  if (now > notAfter) return `expired on ${notAfter.toISOString()}`
  return undefined
}

async function keyProblemFor(cert: X509Certificate, keyFile: string, { optional }: { optional: boolean }): Promise<string | undefined> {
  let pem: Buffer
  try {
    pem = await readFile(keyFile)
  } catch (err) {
    if (optional && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return readFailure(err)
  }
  try {
    return cert.checkPrivateKey(createPrivateKey(pem)) ? undefined : 'private key does not match its certificate'
  } catch (err) {
    return `cannot parse private key: ${(err as Error).message}`
  }
}

function ekuNames(oids: string[]): string {
  if (oids.length === 0) return 'none'
  const names = Object.fromEntries(Object.entries(EKU_OID).map(([name, oid]) => [oid, name]))
  return oids.map((oid) => names[oid] ?? oid).join(', ')
}

function readFailure(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${(err as Error).message}`
}
