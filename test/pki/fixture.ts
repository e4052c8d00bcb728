import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS, initPki, type Member } from '../../pki/index.js'

/** The fixed clock the PKI tests issue certificates at: 2026-01-15T10:20:30.500Z. */
export const NOW = new Date(Date.UTC(2026, 0, 15, 10, 20, 30, 500))
export const MEMBER: Member = { nodeName: 'node-1', advertiseAddress: '10.0.0.1', serverCertSans: ['etcd.example.com', '10.0.0.9'] }

export async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'etcdgw-pki-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh kubeadm-shaped tree made at NOW with the default validities, for tests that hand the library NOW. */
export function freshPki(t: Test): Promise<string> {
  return pkiMadeAt(t, NOW)
}

/** The same tree made at the real time, for tests that run the CLI: it reads the real clock, by which NOW's leaves expire in 2027. */
export function currentPki(t: Test): Promise<string> {
  return pkiMadeAt(t, new Date())
}

async function pkiMadeAt(t: Test, now: Date): Promise<string> {
  const dir = await tempDir(t)
  await initPki({ dir, member: MEMBER, keyType: 'RSA-2048', certValidityMs: DEFAULT_CERT_VALIDITY_MS, caValidityMs: DEFAULT_CA_VALIDITY_MS, now })
  return dir
}
