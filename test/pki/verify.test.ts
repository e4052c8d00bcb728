import { copyFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { clientSubject, issueCert, readKeyPair, verifyPki, writeKeyPair, DEFAULT_CERT_VALIDITY_MS } from '../../pki/index.js'
import { freshPki, NOW } from './fixture.js'

t.test('a fresh tree verifies, with the member host and IP', async (t) => {
  const dir = await freshPki(t)
  t.same(await verifyPki({ dir, now: NOW, host: 'node-1', ip: '10.0.0.1' }), [])
  t.same(await verifyPki({ dir, now: NOW, host: 'etcd.example.com', ip: '10.0.0.9', names: ['etcd-server'] }), [])
})

t.test('each failure names the file and the reason', async (t) => {
  const dir = await freshPki(t)
  const other = await freshPki(t)
  const file = (p: string) => join(dir, p)

  // wrong CA: the server certificate of another tree
  await copyFile(join(other, 'etcd/server.crt'), file('etcd/server.crt'))
  await copyFile(join(other, 'etcd/server.key'), file('etcd/server.key'))
  // key mismatch: the peer key of this tree swapped for the healthcheck key
  await copyFile(file('etcd/healthcheck-client.key'), file('etcd/peer.key'))
  // wrong EKU: apiserver-etcd-client with serverAuth only
  const ca = await readKeyPair({ cert: file('etcd/ca.crt'), key: file('etcd/ca.key') })
  await writeKeyPair({ cert: file('apiserver-etcd-client.crt'), key: file('apiserver-etcd-client.key') }, await issueCert({ ...clientSubject('kube-apiserver-etcd-client'), usages: ['serverAuth'] }, ca, { keyType: 'RSA-2048', validityMs: DEFAULT_CERT_VALIDITY_MS, now: NOW }))

  const problems = await verifyPki({ dir, now: NOW, host: 'node-2', ip: '10.0.0.2' })
  const reasons = (p: string) => problems.filter((x) => x.file === file(p)).map((x) => x.reason)
  t.match(reasons('etcd/server.crt'), [/^not signed by any CA in .*etcd\/ca\.crt \(issuer CN=etcd-ca\)$/, /^does not cover host node-2/, /^does not cover IP 10\.0\.0\.2/])
  t.same(reasons('etcd/peer.key'), ['private key does not match its certificate'])
  t.match(reasons('etcd/peer.crt'), [/^does not cover host node-2 \(SANs: DNS:localhost, DNS:node-1, IP Address:10\.0\.0\.1/, /^does not cover IP 10\.0\.0\.2/])
  t.same(reasons('apiserver-etcd-client.crt'), ['extended key usage lacks clientAuth (has serverAuth)'])
  t.same(reasons('etcd/healthcheck-client.crt'), [])
})

t.test('expired and not-yet-valid certificates, missing files', async (t) => {
  const dir = await freshPki(t)
  const expired = await verifyPki({ dir, now: new Date(NOW.getTime() + DEFAULT_CERT_VALIDITY_MS + 60_000) })
  t.same(expired.map((p) => p.reason), Array(4).fill('expired on 2027-01-15T10:20:30.000Z'))
  const early = await verifyPki({ dir, now: new Date(NOW.getTime() - 3_600_000), names: ['etcd-server'] })
  t.same(early.map((p) => p.reason), ['not valid before 2026-01-15T10:15:30.000Z', 'not valid before 2026-01-15T10:15:30.000Z'], 'CA and leaf')
  await rename(join(dir, 'etcd/server.crt'), join(dir, 'etcd/server.crt.bak'))
  t.same(await verifyPki({ dir, now: NOW, names: ['etcd-server'] }), [{ file: join(dir, 'etcd/server.crt'), reason: 'file not found' }])
})
