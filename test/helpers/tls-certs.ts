/**
 * Certificates for TLS tests, all made by pki/: a kubeadm tree (CA, server, clients) plus the client
 * certificates a server must reject (another CA, expired, serverAuth only).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  clientSubject,
  DEFAULT_CA_VALIDITY_MS,
  DEFAULT_CERT_VALIDITY_MS,
  filesAt,
  filesOf,
  initPki,
  issueCert,
  readKeyPair,
  writeKeyPair,
  type CertFiles,
} from '../../pki/index.js'

export interface TestPki {
  dir: string
  ca: string
  server: CertFiles
  /** clientAuth from the tree's CA */
  client: CertFiles
  /** clientAuth from an unrelated CA */
  otherCaClient: CertFiles
  /** from the tree's CA, expired yesterday */
  expiredClient: CertFiles
  /** from the tree's CA, serverAuth only */
  serverAuthOnlyClient: CertFiles
}

const DAY = 86_400_000

export async function makeTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'etcdgw-tls-'))
  const member = { nodeName: 'node-1', advertiseAddress: '127.0.0.1' }
  const now = new Date()
  const validities = { keyType: 'RSA-2048', certValidityMs: DEFAULT_CERT_VALIDITY_MS, caValidityMs: DEFAULT_CA_VALIDITY_MS, now } as const
  await initPki({ dir, member, ...validities })
  const otherDir = join(dir, 'other')
  await initPki({ dir: otherDir, member, ...validities })

  const ca = await readKeyPair(filesOf(dir, 'etcd-ca'))
  await mkdir(join(dir, 'clients'))
  const expiredClient = filesAt(dir, 'clients/expired')
  await writeKeyPair(expiredClient, await issueCert(clientSubject('expired'), ca, { keyType: 'RSA-2048', validityMs: DAY, now: new Date(now.getTime() - 2 * DAY) }))
  const serverAuthOnlyClient = filesAt(dir, 'clients/server-auth-only')
  const serverOnly = { ...clientSubject('server-only'), usages: ['serverAuth' as const] }
  await writeKeyPair(serverAuthOnlyClient, await issueCert(serverOnly, ca, { keyType: 'RSA-2048', validityMs: DAY, now }))

  return {
    dir,
    ca: filesOf(dir, 'etcd-ca').cert,
    server: filesOf(dir, 'etcd-server'),
    client: filesOf(dir, 'etcd-healthcheck-client'),
    otherCaClient: filesOf(otherDir, 'etcd-healthcheck-client'),
    expiredClient,
    serverAuthOnlyClient,
  }
}

export async function removeTestPki(pki: TestPki): Promise<void> {
  await rm(pki.dir, { recursive: true, force: true })
}
