import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'
import { PkiError } from './errors.js'
import { CERT_MODE, readKeyPair, writeKeyPair } from './files.js'
import { serialOf } from './inspect.js'
import { issueCert } from './issue.js'
import type { KeyType } from './keys.js'
import { filesAt, filesOf } from './layout.js'
import { CA_NAME, clientSubject, leafSubject, type Member } from './profiles.js'

export interface IssueFromCaOptions {
  /** the tree holding etcd/ca.crt and etcd/ca.key */
  dir: string
  /** where the new files go */
  outDir: string
  keyType: KeyType
  validityMs: number
  now: Date
}

export interface IssuedFile {
  name: string
  file: string
  serial: string
}

/**
 * Server and peer certificates for another etcd member, from this tree's CA, written under `outDir` in
 * kubeadm's layout together with a copy of the trust file etcd/ca.crt (not the CA key): the member's own
 * /etc/kubernetes/pki. Each member gets its own certificates; copying one member's server/peer files to
 * another breaks peer SAN checks (kubernetes/kubernetes#118216).
 */
export async function issueMemberCerts(member: Member, options: IssueFromCaOptions): Promise<IssuedFile[]> {
  if (resolve(options.outDir) === resolve(options.dir)) {
    throw new PkiError(options.outDir, 'is the CA tree itself; issue another member into its own directory (use certs init or renew for this one)')
  }
  const caFiles = filesOf(options.dir, CA_NAME)
  const ca = await readKeyPair(caFiles)
  const issued: IssuedFile[] = []
  for (const name of ['etcd-server', 'etcd-peer'] as const) {
    const pair = await issueCert(leafSubject(name, member), ca, options)
    const files = filesOf(options.outDir, name)
    await writeKeyPair(files, pair)
    issued.push({ name, file: files.cert, serial: serialOf(pair.cert) })
  }
  // the whole trust file, so a rotation's old+new bundle reaches the member too
  const trustFile = filesOf(options.outDir, CA_NAME).cert
  await writeFileAtomic(trustFile, await readFile(caFiles.cert), CERT_MODE)
  issued.push({ name: CA_NAME, file: trustFile, serial: serialOf(ca.cert) })
  return issued
}

/** A client certificate (clientAuth only) whose CN is the etcd user: `outDir/<user>.crt` and `.key`. */
export async function issueClientCert(user: string, organization: string[], options: IssueFromCaOptions): Promise<IssuedFile> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/.test(user)) {
    throw new PkiError(options.outDir, `user name "${user}" cannot be a file name (letters, digits and . _ : @ - only)`)
  }
  const ca = await readKeyPair(filesOf(options.dir, CA_NAME))
  const pair = await issueCert(clientSubject(user, organization), ca, options)
  const files = filesAt(options.outDir, user)
  await writeKeyPair(files, pair)
  return { name: user, file: files.cert, serial: serialOf(pair.cert) }
}
