import { PkiError } from './errors.js'
import { fileExists, isExternalCA, keyTypeIn, readCert, readKeyPair, writeKeyPair } from './files.js'
import { serialOf, subjectOf } from './inspect.js'
import { issueCert } from './issue.js'
import { DEFAULT_KEY_TYPE, type KeyType } from './keys.js'
import { filesOf } from './layout.js'
import { CA_NAME, canonicalIp, classifySan, type CertSubject, type LeafName } from './profiles.js'

export interface RenewOptions {
  dir: string
  validityMs: number
  now: Date
  /** Type of the new key; by default the type of the key being replaced. */
  keyType?: KeyType
  /** SANs (IP addresses or DNS names) to add to the ones the certificate has */
  addSans?: string[]
  /** SANs to take away; each must be on the certificate */
  removeSans?: string[]
}

export type RenewResult =
  | { name: LeafName; status: 'renewed'; file: string; serial: string }
  | { name: LeafName; status: 'missing'; file: string }
  | { name: LeafName; status: 'external-ca'; file: string }

/** kubeadm's long names, which its renew command prints. */
export const LONG_NAMES: Record<LeafName, string> = {
  'etcd-server': 'certificate for serving etcd',
  'etcd-peer': 'certificate for etcd nodes to communicate with each other',
  'etcd-healthcheck-client': 'certificate for liveness probes to healthcheck etcd',
  'apiserver-etcd-client': 'certificate the apiserver uses to access etcd',
}

/**
 * `kubeadm certs renew <name>`: the certificate on disk is the source of truth for CN, O, SANs and extended key
 * usages (SANs changed only as asked); the key, serial and validity are new, and the signer is the CA on disk
 * (the first certificate of ca.crt with ca.key). CAs are never renewed. A missing certificate is reported, not
 * created; with an external CA (ca.crt without ca.key) nothing can be signed here.
 */
export async function renewCert(name: LeafName, options: RenewOptions): Promise<RenewResult> {
  const files = filesOf(options.dir, name)
  if (!(await fileExists(files.cert))) return { name, status: 'missing', file: files.cert }
  if (await isExternalCA(options.dir)) return { name, status: 'external-ca', file: files.cert }
  const subject = changeSans(subjectOf(await readCert(files.cert)), options, files.cert)
  const ca = await readKeyPair(filesOf(options.dir, CA_NAME))
  const keyType = options.keyType ?? (await existingKeyType(files.key))
  const pair = await issueCert(subject, ca, { keyType, validityMs: options.validityMs, now: options.now })
  await writeKeyPair(files, pair)
  return { name, status: 'renewed', file: files.cert, serial: serialOf(pair.cert) }
}

/** Adds and removes SANs, keeping kubeadm's order: DNS names sorted, IPs in the order they were added. */
function changeSans(subject: CertSubject, options: RenewOptions, file: string): CertSubject {
  let { dnsNames, ipAddresses } = subject
  for (const san of options.removeSans ?? []) {
    const kind = classifySan(san)
    const value = kind === 'ip' ? canonicalIp(san) : san
    const list = kind === 'ip' ? ipAddresses : dnsNames
    if (!list.includes(value)) throw new PkiError(file, `has no SAN ${san} to remove (has ${[...dnsNames, ...ipAddresses].join(', ') || 'none'})`)
    if (kind === 'ip') ipAddresses = ipAddresses.filter((ip) => ip !== value)
    else dnsNames = dnsNames.filter((dns) => dns !== value)
  }
  for (const san of options.addSans ?? []) {
    const kind = classifySan(san)
    if (kind === undefined) throw new PkiError(file, `cannot add "${san}": neither an IP address nor a DNS name`)
    if (kind === 'ip') ipAddresses = [...new Set([...ipAddresses, canonicalIp(san)])]
    else dnsNames = [...new Set([...dnsNames, san])].sort()
  }
  return { ...subject, dnsNames, ipAddresses }
}

async function existingKeyType(file: string): Promise<KeyType> {
  return (await fileExists(file)) ? keyTypeIn(file) : DEFAULT_KEY_TYPE
}

/** What has to pick up renewed files, given etcd's and kube-apiserver's reload behaviour (specs/pki.md §6). */
export const RELOAD_ADVICE: Record<LeafName, string> = {
  'etcd-server': 'etcd re-reads its server certificate on every new TLS handshake: no restart needed',
  'etcd-peer': 'etcd re-reads its peer certificate on every new TLS handshake: no restart needed',
  'etcd-healthcheck-client': 'used by health probes (etcdctl, scripts): new invocations pick it up',
  'apiserver-etcd-client': 'kube-apiserver loads its etcd client certificate at start: restart kube-apiserver',
}
