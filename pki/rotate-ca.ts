import { rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { syncDir } from './atomic-write.js'
import { PkiError } from './errors.js'
import { fileExists, keyMatchesCert, keyTypeIn, readCert, readCertBundle, readKey, readKeyPair, writeCertFile, writeKeyPair } from './files.js'
import { isSignedBy, sameCert, serialOf } from './inspect.js'
import { createCA } from './issue.js'
import type { KeyType } from './keys.js'
import { filesOf, nextCaFiles } from './layout.js'
import { CA_NAME, LEAF_NAMES, type LeafName } from './profiles.js'
import { renewCert } from './renew.js'

/**
 * Bundle-based rotation of etcd-ca (specs/pki.md §5), one stage per call, the state being the files themselves:
 * - idle: etcd/ca.crt holds one CA.
 * - staged: a new CA was generated into etcd/ca-next.{crt,key} and is not yet committed (an interrupted stage 1).
 * - trust-both: ca.crt = new CA ⊕ old CA (the signer first, as kubeadm signs with the first certificate and
 *   ca.key) and ca.key is the new key; some leaves are still from the old CA.
 * - reissued: every leaf present is signed by the new CA; the old CA is still trusted.
 * Finalizing rewrites ca.crt to the new CA alone and returns to idle. Re-running a stage after a crash
 * resumes it; a completed stage is never repeated.
 */
export type RotationStage = 'idle' | 'staged' | 'trust-both' | 'reissued'

export interface LeafState {
  name: LeafName
  file: string
  signer: 'current' | 'previous' | 'missing'
}

export interface RotationStatus {
  stage: RotationStage
  /** serials of the certificates in etcd/ca.crt, signer first */
  trustedSerials: string[]
  leaves: LeafState[]
}

export interface RotationOptions {
  dir: string
  now: Date
  caValidityMs: number
  certValidityMs: number
  /** key type of the new CA; by default that of the current CA key */
  keyType?: KeyType
  /** key type of the re-issued leaves; by default each keeps its own */
  leafKeyType?: KeyType
}

export interface RotationStep {
  from: RotationStage
  to: RotationStage
  /** files written, in order */
  written: string[]
}

export async function rotationStatus(dir: string): Promise<RotationStatus> {
  const caFile = filesOf(dir, CA_NAME).cert
  const bundle = await readCertBundle(caFile)
  const leaves: LeafState[] = []
  for (const name of LEAF_NAMES) {
    const file = filesOf(dir, name).cert
    if (!(await fileExists(file))) leaves.push({ name, file, signer: 'missing' })
    else leaves.push({ name, file, signer: isSignedBy(await readCert(file), bundle[0]!) ? 'current' : 'previous' })
  }
  const trustedSerials = bundle.map(serialOf)
  if (await fileExists(nextCaFiles(dir).cert)) return { stage: 'staged', trustedSerials, leaves }
  if (bundle.length === 1) return { stage: 'idle', trustedSerials, leaves }
  const reissued = leaves.every((leaf) => leaf.signer !== 'previous')
  return { stage: reissued ? 'reissued' : 'trust-both', trustedSerials, leaves }
}

/** Runs the next stage of the rotation. */
export async function advanceRotation(options: RotationOptions): Promise<RotationStep> {
  const { stage: from } = await rotationStatus(options.dir)
  switch (from) {
    case 'idle':
      return { from, to: 'trust-both', written: [...(await stageNewCA(options)), ...(await commitNewCA(options.dir))] }
    case 'staged':
      return { from, to: 'trust-both', written: await commitNewCA(options.dir) }
    case 'trust-both':
      return { from, to: 'reissued', written: await reissueLeaves(options) }
    case 'reissued':
      return { from, to: 'idle', written: await finalize(options.dir) }
  }
}

async function stageNewCA(options: RotationOptions): Promise<string[]> {
  const keyType = options.keyType ?? (await keyTypeIn(filesOf(options.dir, CA_NAME).key))
  const next = await createCA({ keyType, validityMs: options.caValidityMs, now: options.now })
  const files = nextCaFiles(options.dir)
  await writeKeyPair(files, next)
  return [files.key, files.cert]
}

/** ca.crt first (new signer ⊕ everything trusted before), then the key by rename, then drop the staging cert. */
async function commitNewCA(dir: string): Promise<string[]> {
  const ca = filesOf(dir, CA_NAME)
  const next = nextCaFiles(dir)
  const nextCert = await readCert(next.cert)
  const trusted = (await readCertBundle(ca.cert)).filter((cert) => !sameCert(cert, nextCert))
  await writeCertFile(ca.cert, [nextCert, ...trusted])
  if (await fileExists(next.key)) {
    if (!keyMatchesCert(await readKey(next.key), nextCert)) throw new PkiError(next.key, `does not match ${next.cert}`)
    await rename(next.key, ca.key)
    await syncDir(dirname(ca.key))
  } else if (!keyMatchesCert(await readKey(ca.key), nextCert)) {
    throw new PkiError(next.key, `not found, and ${ca.key} does not match the staged CA ${next.cert}: restart the rotation by removing ${next.cert}`)
  }
  await rm(next.cert)
  return [ca.cert, ca.key]
}

async function reissueLeaves(options: RotationOptions): Promise<string[]> {
  const signer = (await readKeyPair(filesOf(options.dir, CA_NAME))).cert
  const written: string[] = []
  for (const name of LEAF_NAMES) {
    const file = filesOf(options.dir, name).cert
    if (!(await fileExists(file)) || isSignedBy(await readCert(file), signer)) continue
    await renewCert(name, { dir: options.dir, validityMs: options.certValidityMs, now: options.now, ...(options.leafKeyType ? { keyType: options.leafKeyType } : {}) })
    written.push(file)
  }
  return written
}

async function finalize(dir: string): Promise<string[]> {
  const ca = filesOf(dir, CA_NAME)
  const [signer] = await readCertBundle(ca.cert)
  await writeCertFile(ca.cert, [signer!])
  return [ca.cert]
}

/** What an operator must do after each stage for etcd, which loads its trusted CA file only at start. */
export const ROTATION_ADVICE: Record<RotationStage, string> = {
  'staged': 'the new CA is staged but not committed; run rotate-ca again',
  'trust-both':
    'etcd/ca.crt now trusts the new and the old CA (new first; it signs from now on). Give every member this ca.crt ' +
    '(certs issue member rewrites it), then restart every etcd member and kube-apiserver: etcd reads its trusted CA ' +
    'file only at start. Then run rotate-ca again to re-issue the leaves.',
  'reissued':
    'the leaves in this tree are now signed by the new CA; re-issue the other members with certs issue member. etcd ' +
    'uses new server and peer certificates on the next handshake; restart kube-apiserver for its client certificate. ' +
    'Then run rotate-ca again to drop the old CA.',
  'idle':
    'etcd/ca.crt trusts the new CA alone. Give every member this ca.crt, then restart every etcd member and ' +
    'kube-apiserver.',
}
