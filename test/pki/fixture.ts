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

/** A fresh kubeadm-shaped tree made at NOW with the default validities. */
export async function freshPki(t: Test, member: Member = MEMBER): Promise<string> {
  const dir = await tempDir(t)
  await initPki({ dir, member, keyType: 'RSA-2048', certValidityMs: DEFAULT_CERT_VALIDITY_MS, caValidityMs: DEFAULT_CA_VALIDITY_MS, now: NOW })
  return dir
}
