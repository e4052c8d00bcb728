import { X509Certificate } from 'node:crypto'
import { copyFile, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { certsCli } from '../pki/cli-runner.js'
import { tempDir } from '../pki/fixture.js'

t.test('etcdgw certs: init, issue, check-expiration, verify, renew, rotate-ca from the command line', async (t) => {
  const root = await tempDir(t)
  const dir = join(root, 'pki')

  const init = await certsCli('init', '--dir', dir, '--node-name', 'n1', '--advertise-address', '127.0.0.1', '--server-cert-sans', 'etcd.local,10.1.2.3,not_valid', '--cert-validity', '720h')
  t.equal(init.code, 0, 'init', { stderr: init.stderr })
  t.match(init.stdout, '[certs] Generating "etcd/ca" certificate authority\n[certs] Generating "etcd/server" certificate and key\n')
  t.match(init.stdout, '[certs] etcd/server serving cert is signed for DNS names [etcd.local localhost n1] and IPs [127.0.0.1 ::1 10.1.2.3]\n')
  t.match(init.stderr, '[certs] WARNING: skipping "not_valid": neither an IP address nor a DNS name')
  const server = new X509Certificate(await readFile(join(dir, 'etcd/server.crt')))
  t.equal(new Date(server.validTo).getTime() - new Date(server.validFrom).getTime(), 720 * 3_600_000 + 5 * 60_000, '--cert-validity and the 5-minute backdate')

  const again = await certsCli('init', '--dir', dir, '--node-name', 'n1', '--advertise-address', '127.0.0.1', '--server-cert-sans', 'etcd.local,10.1.2.3')
  t.equal(again.code, 0)
  t.equal(again.stdout.match(/Using the existing/g)?.length, 5, 'existing files kept')
  const moved = await certsCli('init', '--dir', dir, '--node-name', 'n1', '--advertise-address', '127.0.0.2')
  t.equal(moved.code, 1)
  t.equal(moved.stderr, `error: ${join(dir, 'etcd/server.crt')}: exists but lacks the SANs 127.0.0.2 (use --force to replace it)\n`)

  const member = await certsCli('issue', 'member', '--dir', dir, '--out-dir', join(root, 'n2'), '--node-name', 'n2', '--advertise-address', '127.0.0.1')
  t.equal(member.code, 0, 'issue member', { stderr: member.stderr })
  t.equal(new X509Certificate(await readFile(join(root, 'n2/etcd/peer.crt'))).subject, 'CN=n2')
  t.equal(await readFile(join(root, 'n2/etcd/ca.crt'), 'utf8'), await readFile(join(dir, 'etcd/ca.crt'), 'utf8'), 'member gets the trust file')
  const client = await certsCli('issue', 'client', '--dir', dir, '--user', 'alice', '--org', 'team-a', '--out-dir', join(root, 'clients'))
  t.equal(client.code, 0)
  const alice = new X509Certificate(await readFile(join(root, 'clients/alice.crt')))
  t.equal(alice.subject, 'O=team-a\nCN=alice')
  t.same(alice.keyUsage, ['1.3.6.1.5.5.7.3.2'])

  t.test('check-expiration exit status follows --warn, missing files', async (t) => {
    const text = await certsCli('check-expiration', '--dir', dir)
    t.equal(text.code, 1, '720h certificates are within the default --warn 30d')
    t.match(text.stdout, /^CERTIFICATE {15}EXPIRES {18}RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\napiserver-etcd-client {5}\w{3} \d\d, \d{4} \d\d:\d\d UTC   29d {13}etcd-ca {17}no {6}\n/)
    t.match(text.stderr, 'etcd-server: expires in 29d')
    t.equal((await certsCli('check-expiration', '--dir', dir, '--warn', '7d')).code, 0)
    const json = await certsCli('check-expiration', '--dir', dir, '--warn', '7d', '-o', 'json')
    t.equal(JSON.parse(json.stdout).kind, 'CertificateExpirationInfo')
    t.match(json.stdout, /^\{\n {4}"kind"/)
    t.match((await certsCli('check-expiration', '--dir', dir, '-o', 'yaml', '--warn', '0s')).stdout, /^apiVersion: output\.kubeadm\.k8s\.io\/v1alpha3\n/)
    const bad = await certsCli('check-expiration', '--dir', dir, '-o', 'xml')
    t.equal(bad.code, 1)
    t.match(bad.stderr, /argument 'xml' is invalid/)
    const missing = await certsCli('check-expiration', '--dir', join(root, 'n2'), '--warn', '0s')
    t.equal(missing.code, 1)
    t.match(missing.stdout, '!MISSING! apiserver-etcd-client')
    t.match(missing.stderr, 'apiserver-etcd-client: missing\n')
  })

  t.test('verify: clean tree passes, a swapped key fails naming the file', async (t) => {
    const good = await certsCli('verify', '--dir', dir, '--host', 'n1', '--ip', '127.0.0.1')
    t.equal(good.code, 0, 'verify', { stderr: good.stderr })
    const miss = await certsCli('verify', '--dir', dir, '--host', 'other.local')
    t.equal(miss.code, 1)
    t.match(miss.stderr, `${join(dir, 'etcd/server.crt')}: does not cover host other.local`)
    const broken = join(root, 'broken')
    await certsCli('init', '--dir', broken, '--node-name', 'b', '--advertise-address', '127.0.0.1')
    await copyFile(join(dir, 'etcd/server.key'), join(broken, 'etcd/server.key'))
    const swapped = await certsCli('verify', '--dir', broken)
    t.equal(swapped.code, 1)
    t.equal(swapped.stderr, `${join(broken, 'etcd/server.key')}: private key does not match its certificate\n`)
  })

  t.test('renew: one, all, unknown, CA refused, missing', async (t) => {
    const before = new X509Certificate(await readFile(join(dir, 'etcd/server.crt'))).serialNumber
    const one = await certsCli('renew', 'etcd-server', '--dir', dir)
    t.equal(one.code, 0)
    t.match(one.stdout, /^certificate for serving etcd renewed \(etcd-server, serial [0-9A-F]+\): etcd re-reads its server certificate on every new TLS handshake/)
    t.not(new X509Certificate(await readFile(join(dir, 'etcd/server.crt'))).serialNumber, before)
    const ca = await certsCli('renew', 'etcd-ca', '--dir', dir)
    t.equal(ca.code, 1)
    t.match(ca.stderr, 'etcd-ca is never renewed')
    await rm(join(dir, 'etcd/healthcheck-client.crt'))
    const all = await certsCli('renew', 'all', '--dir', dir)
    t.equal(all.code, 0)
    t.match(all.stdout, `MISSING! certificate for liveness probes to healthcheck etcd (${join(dir, 'etcd/healthcheck-client.crt')})`)
    t.match(all.stdout, 'certificate the apiserver uses to access etcd renewed (apiserver-etcd-client, serial')
    t.match(all.stdout, 'restart kube-apiserver')
  })

  t.test('rotate-ca status and stages', async (t) => {
    t.match((await certsCli('rotate-ca', 'status', '--dir', join(root, 'n2'))).stdout, /^stage: idle\n/)
    const d = join(root, 'rot')
    await certsCli('init', '--dir', d, '--node-name', 'r', '--advertise-address', '127.0.0.1')
    const stages = []
    for (let i = 0; i < 3; i++) stages.push((await certsCli('rotate-ca', '--dir', d)).stdout.split('\n')[0])
    t.same(stages, ['rotate-ca: idle -> trust-both', 'rotate-ca: trust-both -> reissued', 'rotate-ca: reissued -> idle'])
    t.equal((await certsCli('rotate-ca', 'bogus', '--dir', d)).code, 1)
  })
})
