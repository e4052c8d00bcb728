import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { createCA, initPki, memberAltNames, parseKeyType, PkiError, randomSerialHex, DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS } from '../../pki/index.js'
import { freshPki, MEMBER, NOW } from './fixture.js'

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'
const START = Math.floor(NOW.getTime() / 1000) * 1000
const iso = (ms: number) => new Date(ms).toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, d, m, y, hms) => `${m} ${String(Number(d)).padStart(2, ' ')} ${hms} ${y} GMT`)

t.test('SANs follow kubeadm: DNS deduplicated and sorted, IPs deduplicated in order, bad names skipped', async (t) => {
  const alt = memberAltNames('n1', '10.0.0.1', ['b.example', '10.0.0.1', 'a.example', '0:0:0:0:0:0:0:1', '*.wild.example', 'bad_name', 'n1', 'fd00::5'])
  t.same(alt.dnsNames, ['*.wild.example', 'a.example', 'b.example', 'localhost', 'n1'])
  t.same(alt.ipAddresses, ['10.0.0.1', '127.0.0.1', '::1', 'fd00::5'])
  t.same(alt.skipped, ['bad_name'])
  t.throws(() => memberAltNames('n1', 'not-an-ip'), /advertise address "not-an-ip" is not a valid IP address/)
})

t.test('the five kubeadm etcd certificates, field by field', async (t) => {
  const dir = await freshPki(t)
  const pem = (p: string) => readFile(join(dir, p), 'utf8')
  const ca = new X509Certificate(await pem('etcd/ca.crt'))
  const text = (p: string) => execFileSync('openssl', ['x509', '-in', join(dir, p), '-text', '-noout'], { encoding: 'utf8' })
  const caSki = /Subject Key Identifier: *\n *([0-9A-F:]+)/.exec(text('etcd/ca.crt'))![1]!

  t.test('etcd-ca', async (t) => {
    t.equal(ca.subject, 'CN=etcd-ca')
    t.equal(ca.issuer, 'CN=etcd-ca')
    t.equal(ca.ca, true)
    t.equal(ca.subjectAltName, 'DNS:etcd-ca')
    t.equal(ca.validFrom, iso(START - 5 * 60_000), 'backdated 5 minutes')
    t.equal(ca.validTo, iso(START + DEFAULT_CA_VALIDITY_MS), '87600h')
    t.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
    t.equal(ca.publicKey.asymmetricKeyDetails?.publicExponent, 65537n)
    const dump = text('etcd/ca.crt')
    t.match(dump, /Signature Algorithm: sha256WithRSAEncryption/)
    t.match(dump, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment, Certificate Sign\n/)
    t.match(dump, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/)
    t.notMatch(dump, /Authority Key Identifier/)
    t.notMatch(dump, /Extended Key Usage/)
  })

  const leaves = [
    { file: 'etcd/server.crt', subject: 'CN=node-1', ekus: [SERVER_AUTH, CLIENT_AUTH], sans: 'DNS:etcd.example.com, DNS:localhost, DNS:node-1, IP Address:10.0.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.0.0.9' },
    { file: 'etcd/peer.crt', subject: 'CN=node-1', ekus: [SERVER_AUTH, CLIENT_AUTH], sans: 'DNS:localhost, DNS:node-1, IP Address:10.0.0.1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1' },
    { file: 'etcd/healthcheck-client.crt', subject: 'CN=kube-etcd-healthcheck-client', ekus: [CLIENT_AUTH], sans: undefined },
    { file: 'apiserver-etcd-client.crt', subject: 'CN=kube-apiserver-etcd-client', ekus: [CLIENT_AUTH], sans: undefined },
  ]
  for (const leaf of leaves) {
    t.test(leaf.file, async (t) => {
      const cert = new X509Certificate(await pem(leaf.file))
      t.equal(cert.subject, leaf.subject, 'subject: CN only, no O (k8s >= 1.29)')
      t.equal(cert.issuer, 'CN=etcd-ca')
      t.equal(cert.ca, false)
      t.same(cert.keyUsage, leaf.ekus, 'extended key usage')
      t.equal(cert.subjectAltName, leaf.sans)
      t.equal(cert.validFrom, iso(START - 5 * 60_000), 'backdated 5 minutes')
      t.equal(cert.validTo, iso(START + DEFAULT_CERT_VALIDITY_MS), '8760h')
      t.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey), 'signed by etcd-ca')
      const serial = BigInt(`0x${cert.serialNumber}`)
      t.ok(serial >= 1n && serial <= 2n ** 63n - 1n, 'positive serial of at most 63 bits')
      const dump = text(leaf.file)
      t.match(dump, /Signature Algorithm: sha256WithRSAEncryption/)
      t.match(dump, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/)
      t.match(dump, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/)
      t.match(dump, /X509v3 Extended Key Usage: *\n/, 'EKU not critical')
      t.equal(/Authority Key Identifier: *\n *(?:keyid:)?([0-9A-F:]+)/.exec(dump)?.[1], caSki, 'AKI = CA SKI')
      t.notMatch(dump, /Subject Key Identifier/)
      t.match(execFileSync('openssl', ['verify', '-attime', String(START / 1000), '-CAfile', join(dir, 'etcd/ca.crt'), join(dir, leaf.file)], { encoding: 'utf8' }), /: OK\n$/, 'openssl verifies it at NOW, not on the real clock')
    })
  }

  t.test('files: PKCS#1 keys 0600, certificates 0644, directories 0755, LF line ends, no temp files', async (t) => {
    for (const base of ['etcd/ca', 'etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']) {
      const key = await readFile(join(dir, `${base}.key`), 'utf8')
      t.match(key, /^-----BEGIN RSA PRIVATE KEY-----\n/, `${base}.key is PKCS#1`)
      t.notOk(key.includes('\r'), `${base}.key has LF line ends`)
      t.equal((await stat(join(dir, `${base}.key`))).mode & 0o777, 0o600, `${base}.key mode`)
      t.equal((await stat(join(dir, `${base}.crt`))).mode & 0o777, 0o644, `${base}.crt mode`)
      t.ok((await stat(join(dir, `${base}.key`))).mtimeMs <= (await stat(join(dir, `${base}.crt`))).mtimeMs, `${base}.key written first`)
    }
    t.equal((await stat(join(dir, 'etcd'))).mode & 0o777, 0o755)
    t.same((await readdir(dir)).sort(), ['apiserver-etcd-client.crt', 'apiserver-etcd-client.key', 'etcd'])
    t.same((await readdir(join(dir, 'etcd'))).sort(), ['ca.crt', 'ca.key', 'healthcheck-client.crt', 'healthcheck-client.key', 'peer.crt', 'peer.key', 'server.crt', 'server.key'])
  })
})

t.test('existing valid files are kept; unusable ones are an error naming the file; --force replaces', async (t) => {
  const dir = await freshPki(t)
  const serverBefore = await readFile(join(dir, 'etcd/server.crt'), 'utf8')
  const options = { dir, member: MEMBER, keyType: 'RSA-2048' as const, certValidityMs: DEFAULT_CERT_VALIDITY_MS, caValidityMs: DEFAULT_CA_VALIDITY_MS, now: NOW }
  const again = await initPki(options)
  t.same(again.results.map((r) => r.action), ['kept', 'kept', 'kept', 'kept', 'kept'])
  t.equal(await readFile(join(dir, 'etcd/server.crt'), 'utf8'), serverBefore)
  const moved = { ...options, member: { ...MEMBER, advertiseAddress: '10.0.0.2' } }
  await t.rejects(initPki(moved), new PkiError(join(dir, 'etcd/server.crt'), 'exists but lacks the SANs 10.0.0.2 (use --force to replace it)'))
  const later = { ...options, now: new Date(NOW.getTime() + DEFAULT_CERT_VALIDITY_MS + 1000) }
  await t.rejects(initPki(later), { message: /server\.crt: exists but expired on 2027-01-15T10:20:30\.000Z/ })
  const forced = await initPki({ ...moved, force: true })
  t.same(forced.results.map((r) => r.action), ['created', 'created', 'created', 'created', 'created'])
  t.not(await readFile(join(dir, 'etcd/server.crt'), 'utf8'), serverBefore)
})

t.test('key types and serials', async (t) => {
  t.equal(parseKeyType('ecdsa-p384'), 'ECDSA-P384')
  t.throws(() => parseKeyType('RSA-1024'), /key type must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, ED25519, got "RSA-1024"/)
  const big = await createCA({ keyType: 'RSA-3072', validityMs: 3_600_000, now: NOW })
  t.equal(big.key.asymmetricKeyDetails?.modulusLength, 3072)
  for (let i = 0; i < 2000; i++) {
    const hex = randomSerialHex()
    const value = BigInt(`0x${hex}`)
    if (value < 1n || value > 2n ** 63n - 1n) t.fail(`serial out of range: ${hex}`)
    // minimal DER: a leading 00 only when the next byte has its top bit set
    if (hex.startsWith('00') && parseInt(hex[2]!, 16) < 8) t.fail(`non-minimal serial ${hex}`)
    if (!hex.startsWith('00') && parseInt(hex[0]!, 16) >= 8) t.fail(`negative serial ${hex}`)
  }
  t.pass('2000 serials in range and minimally encoded')
})
