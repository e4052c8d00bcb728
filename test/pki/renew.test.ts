import { X509Certificate } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { LEAF_NAMES, renewCert, DEFAULT_CERT_VALIDITY_MS, type RenewResult } from '../../pki/index.js'
import { certsCli } from './cli-runner.js'
import { currentPki, freshPki, NOW, tempDir } from './fixture.js'

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

t.test('--add-san and --remove-san change only the SANs; the key type stays unless another is asked for', async (t) => {
  const dir = await currentPki(t)
  const before = await read(dir, 'etcd/server.crt')
  const added = await certsCli('renew', 'etcd-server', '--dir', dir, '--add-san', '10.0.0.20,etcd-1.example.com', '--add-san', 'fd00::20', '--remove-san', '10.0.0.9', '--remove-san', 'etcd.example.com')
  t.equal(added.code, 0, 'renew with SAN changes', { stderr: added.stderr })
  const after = await read(dir, 'etcd/server.crt')
  t.equal(after.subjectAltName, 'DNS:etcd-1.example.com, DNS:localhost, DNS:node-1, IP Address:10.0.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.20, IP Address:FD00:0:0:0:0:0:0:20')
  t.equal(after.subject, before.subject)
  t.same(after.keyUsage, before.keyUsage)
  t.equal(after.publicKey.asymmetricKeyType, 'rsa', 'RSA kept')

  const missing = await certsCli('renew', 'etcd-server', '--dir', dir, '--remove-san', '10.9.9.9')
  t.equal(missing.code, 1)
  t.match(missing.stderr, /server\.crt: has no SAN 10\.9\.9\.9 to remove \(has etcd-1\.example\.com, localhost, node-1, 10\.0\.0\.1,/)
  t.match((await certsCli('renew', 'etcd-server', '--dir', dir, '--add-san', 'bad_name')).stderr, /cannot add "bad_name": neither an IP address nor a DNS name/)
  t.match((await certsCli('renew', 'all', '--dir', dir, '--add-san', '10.0.0.30')).stderr, /--add-san and --remove-san change one certificate: name it instead of "all"/)
  t.equal((await read(dir, 'etcd/server.crt')).serialNumber, after.serialNumber, 'refusals write nothing')

  t.equal((await certsCli('renew', 'etcd-peer', '--dir', dir, '--key-type', 'ECDSA-P384')).code, 0)
  t.equal((await read(dir, 'etcd/peer.crt')).publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1', 'the type asked for')
  t.equal((await certsCli('renew', 'etcd-peer', '--dir', dir)).code, 0)
  t.equal((await read(dir, 'etcd/peer.crt')).publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1', 'renewed again: the type kept')
  t.match((await certsCli('renew', 'etcd-peer', '--dir', dir, '--key-type', 'RSA-1024')).stderr, /key type must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, ED25519, got "RSA-1024"/)
})

t.test('--cert-validity and --ca-validity take Go durations', async (t) => {
  const dir = await tempDir(t)
  const r = await certsCli('init', '--dir', dir, '--advertise-address', '10.0.0.1', '--cert-validity', '720h', '--ca-validity', '43800h30m')
  t.equal(r.code, 0, 'init', { stderr: r.stderr })
  const ca = await read(dir, 'etcd/ca.crt')
  const leaf = await read(dir, 'etcd/server.crt')
  const start = Date.parse(leaf.validFrom) + 5 * 60_000
  t.equal(Date.parse(leaf.validTo) - start, 720 * 3_600_000, 'leaves: 720h')
  t.equal(Date.parse(ca.validTo) - start, 43800.5 * 3_600_000, 'CA: 43800h30m')
  t.equal((await certsCli('renew', 'etcd-server', '--dir', dir, '--cert-validity', '36h')).code, 0)
  const renewed = await read(dir, 'etcd/server.crt')
  t.equal(Date.parse(renewed.validTo) - Date.parse(renewed.validFrom), 36 * 3_600_000 + 5 * 60_000, 'renew: 36h')
  t.match((await certsCli('init', '--dir', dir, '--advertise-address', '10.0.0.1', '--cert-validity', '1 year')).stderr, /invalid duration "1 year"/)
  t.match((await certsCli('renew', 'etcd-server', '--dir', dir, '--cert-validity', '0')).stderr, /validity must be longer than 0/)
})
