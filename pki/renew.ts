import { PkiError } from './errors.js'
import { fileExists, readCert, readKey, readKeyPair, writeKeyPair } from './files.js'
import { serialOf, subjectOf } from './inspect.js'
import { issueCert } from './issue.js'
import { keyBits, parseKeySize, type KeySize } from './keys.js'
import { filesOf } from './layout.js'
import { CA_NAME, LEAF_NAMES, type LeafName } from './profiles.js'

export interface RenewOptions {
  dir: string
  validityMs: number
  now: Date
  /** Size of the new key; by default the size of the key being replaced. */
  keySize?: KeySize
}

export type RenewResult =
  | { name: LeafName; status: 'renewed'; file: string; serial: string }
  | { name: LeafName; status: 'missing'; file: string }

/**
 * `kubeadm certs renew <name>`: the certificate on disk is the source of truth for CN, O, SANs and extended key
 * usages; the key, serial and validity are new, and the signer is the CA on disk (the first certificate of
 * ca.crt with ca.key). CAs are never renewed. A missing certificate is reported, not created.
 */
export async function renewCert(name: LeafName, options: RenewOptions): Promise<RenewResult> {
  const files = filesOf(options.dir, name)
  if (!(await fileExists(files.cert))) return { name, status: 'missing', file: files.cert }
  const old = await readCert(files.cert)
  const ca = await readKeyPair(filesOf(options.dir, CA_NAME))
  const keySize = options.keySize ?? (await existingKeySize(files.key))
  const pair = await issueCert(subjectOf(old), ca, { keySize, validityMs: options.validityMs, now: options.now })
  await writeKeyPair(files, pair)
  return { name, status: 'renewed', file: files.cert, serial: serialOf(pair.cert) }
}

export async function renewAll(options: RenewOptions): Promise<RenewResult[]> {
  const results: RenewResult[] = []
  for (const name of LEAF_NAMES) results.push(await renewCert(name, options))
  return results
}

async function existingKeySize(file: string): Promise<KeySize> {
  if (!(await fileExists(file))) return 2048
  const bits = keyBits(await readKey(file))
  try {
    return parseKeySize(bits)
  } catch {
    throw new PkiError(file, `has an RSA key of ${bits} bits; pass a key size (2048, 3072 or 4096) for the new key`)
  }
}

/** What has to pick up renewed files, given etcd's and kube-apiserver's reload behaviour (specs/pki.md §6). */
export const RELOAD_ADVICE: Record<LeafName, string> = {
  'etcd-server': 'etcd re-reads its server certificate on every new TLS handshake: no restart needed',
  'etcd-peer': 'etcd re-reads its peer certificate on every new TLS handshake: no restart needed',
  'etcd-healthcheck-client': 'used by health probes (etcdctl, scripts): new invocations pick it up',
  'apiserver-etcd-client': 'kube-apiserver loads its etcd client certificate at start: restart kube-apiserver',
}
