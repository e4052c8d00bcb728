import { X509Certificate } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { LEAF_NAMES, renewCert, DEFAULT_CERT_VALIDITY_MS, type RenewResult } from '../../pki/index.js'
import { freshPki, NOW } from './fixture.js'

const read = async (dir: string, file: string) => new X509Certificate(await readFile(join(dir, file)))

t.test('renew keeps CN, O, SANs and EKU; changes key, serial and validity; signs with the CA on disk', async (t) => {
  const dir = await freshPki(t)
  const later = new Date(NOW.getTime() + 100 * 86_400_000)
  const files = ['etcd/server.crt', 'etcd/peer.crt', 'etcd/healthcheck-client.crt', 'apiserver-etcd-client.crt']
  const before = await Promise.all(files.map((f) => read(dir, f)))
  const keysBefore = await Promise.all(files.map((f) => readFile(join(dir, f.replace(/crt$/, 'key')), 'utf8')))
  const results: RenewResult[] = []
  for (const name of LEAF_NAMES) results.push(await renewCert(name, { dir, validityMs: DEFAULT_CERT_VALIDITY_MS, now: later }))
  t.same(results.map((r) => r.status), ['renewed', 'renewed', 'renewed', 'renewed'])
  const ca = await read(dir, 'etcd/ca.crt')
  for (const [i, file] of files.entries()) {
    const old = before[i]!
    const renewed = await read(dir, file)
    t.equal(renewed.subject, old.subject, `${file} subject kept`)
    t.equal(renewed.subjectAltName, old.subjectAltName, `${file} SANs kept`)
    t.same(renewed.keyUsage, old.keyUsage, `${file} EKU kept`)
    t.not(renewed.serialNumber, old.serialNumber, `${file} new serial`)
    t.not(renewed.publicKey.export({ type: 'spki', format: 'pem' }), old.publicKey.export({ type: 'spki', format: 'pem' }), `${file} new key`)
    t.not(await readFile(join(dir, file.replace(/crt$/, 'key')), 'utf8'), keysBefore[i], `${file} key file replaced`)
    t.equal(new Date(renewed.validTo).getTime(), Math.floor(later.getTime() / 1000) * 1000 + DEFAULT_CERT_VALIDITY_MS, `${file} new validity`)
    t.ok(renewed.checkIssued(ca) && renewed.verify(ca.publicKey), `${file} signed by etcd-ca`)
  }
})

t.test('a missing certificate is reported, not created', async (t) => {
  const dir = await freshPki(t)
  await rm(join(dir, 'etcd/peer.crt'))
  const result = await renewCert('etcd-peer', { dir, validityMs: DEFAULT_CERT_VALIDITY_MS, now: NOW })
  t.same(result, { name: 'etcd-peer', status: 'missing', file: join(dir, 'etcd/peer.crt') })
  await t.rejects(readFile(join(dir, 'etcd/peer.crt')), { code: 'ENOENT' })
})

t.test('without the CA key (an external CA) nothing is renewed', async (t) => {
  const dir = await freshPki(t)
  await rm(join(dir, 'etcd/ca.key'))
  const before = await readFile(join(dir, 'etcd/server.crt'), 'utf8')
  t.same(await renewCert('etcd-server', { dir, validityMs: DEFAULT_CERT_VALIDITY_MS, now: NOW }), { name: 'etcd-server', status: 'external-ca', file: join(dir, 'etcd/server.crt') })
  t.equal(await readFile(join(dir, 'etcd/server.crt'), 'utf8'), before)
})
