import { execFileSync } from 'node:child_process'
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { formatExpires, LEAF_NAMES } from '../../pki/index.js'
import { certsCli } from './cli-runner.js'
import { tempDir } from './fixture.js'

// kubeadm's external-CA mode with openssl as the outside CA: generate-csr, openssl signs, verify checks on import,
// check-expiration reports EXTERNALLY MANAGED, renew refuses.
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
const BASES: Record<(typeof LEAF_NAMES)[number], string> = {
  'apiserver-etcd-client': 'apiserver-etcd-client',
  'etcd-healthcheck-client': 'etcd/healthcheck-client',
  'etcd-peer': 'etcd/peer',
  'etcd-server': 'etcd/server',
}

t.test('external CA end to end with openssl', async (t) => {
  const root = await tempDir(t)
  const outside = join(root, 'corporate-ca')
  const dir = join(root, 'pki')
  await mkdir(outside)
  await mkdir(join(dir, 'etcd'), { recursive: true })
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes', '-keyout', join(outside, 'ca.key'), '-out', join(outside, 'ca.crt'),
    '-days', '3650', '-subj', '/O=Example Corp/CN=etcd-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign')
  // only the CA certificate reaches the node
  await copyFile(join(outside, 'ca.crt'), join(dir, 'etcd/ca.crt'))

  const csr = await certsCli('generate-csr', '--dir', dir, '--node-name', 'n1', '--advertise-address', '10.0.0.11', '--server-cert-sans', 'etcd.example.com', '--key-type', 'ECDSA-P256')
  t.equal(csr.code, 0, 'generate-csr', { stderr: csr.stderr })
  for (const base of Object.values(BASES)) {
    t.equal((await stat(join(dir, `${base}.key`))).mode & 0o777, 0o600, `${base}.key is 0600`)
    t.equal((await stat(join(dir, `${base}.csr`))).mode & 0o777, 0o644, `${base}.csr is 0644`)
  }
  const request = (base: string) => openssl('req', '-in', join(dir, `${base}.csr`), '-noout', '-text', '-verify')
  const server = request('etcd/server')
  t.match(server, /Subject: CN *= *n1\n/, 'server CSR: CN = node name')
  t.match(server, /DNS:etcd\.example\.com, DNS:localhost, DNS:n1, IP Address:10\.0\.0\.11, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/, 'server CSR: kubeadm SANs')
  t.match(server, /TLS Web Server Authentication, TLS Web Client Authentication/, 'server CSR: serverAuth, clientAuth')
  t.match(server, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment/, 'server CSR: key usage')
  t.match(server, /ASN1 OID: prime256v1/, 'server CSR: ECDSA-P256 key')
  t.match(request('etcd/peer'), /DNS:localhost, DNS:n1, IP Address:10\.0\.0\.11/, 'peer CSR: no server SANs')
  const apiserver = request('apiserver-etcd-client')
  t.match(apiserver, /Subject: CN *= *kube-apiserver-etcd-client\n/)
  t.notMatch(apiserver, /Subject Alternative Name/)
  t.match(apiserver, /Extended Key Usage: *\n\s+TLS Web Client Authentication\n/)
  t.match(request('etcd/healthcheck-client'), /Subject: CN *= *kube-etcd-healthcheck-client\n/)

  // the external CA signs what was asked for
  const sign = (base: string, extra: string[] = ['-copy_extensions', 'copyall']) =>
    openssl('x509', '-req', '-in', join(dir, `${base}.csr`), '-CA', join(outside, 'ca.crt'), '-CAkey', join(outside, 'ca.key'), '-set_serial', '0x1234', '-days', '365', ...extra, '-out', join(dir, `${base}.crt`))
  for (const base of Object.values(BASES)) sign(base)
  const verify = await certsCli('verify', '--dir', dir, '--host', 'n1', '--ip', '10.0.0.11')
  t.equal(verify.code, 0, 'certs verify accepts the externally signed certificates', { stderr: verify.stderr, stdout: verify.stdout })

  // check-expiration: kubeadm's layout with EXTERNALLY MANAGED yes
  const expires = (file: string) => formatExpires(new Date(openssl('x509', '-in', join(dir, file), '-noout', '-enddate').trim().replace(/^notAfter=/, '')))
  const check = await certsCli('check-expiration', '--dir', dir)
  t.equal(check.code, 0)
  t.equal(
    check.stdout,
    `CERTIFICATE               EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
${LEAF_NAMES.map((name) => `${name.padEnd(26)}${expires(`${BASES[name]}.crt`)}   364d            etcd-ca                 yes     `).join('\n')}

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
etcd-ca                 ${expires('etcd/ca.crt')}   9y              yes     
`,
  )
  t.match(JSON.parse((await certsCli('check-expiration', '--dir', dir, '-o', 'json')).stdout), { certificates: Array(4).fill({ externallyManaged: true }), certificateAuthorities: [{ externallyManaged: true }] })

  // renew: nothing can be signed here
  const before = await readFile(join(dir, 'etcd/server.crt'), 'utf8')
  const renew = await certsCli('renew', 'all', '--dir', dir)
  t.equal(renew.code, 0)
  t.equal(
    renew.stdout,
    "Detected external etcd/ca, certificate the apiserver uses to access etcd can't be renewed\n" +
      "Detected external etcd/ca, certificate for liveness probes to healthcheck etcd can't be renewed\n" +
      "Detected external etcd/ca, certificate for etcd nodes to communicate with each other can't be renewed\n" +
      "Detected external etcd/ca, certificate for serving etcd can't be renewed\n",
  )
  t.equal(await readFile(join(dir, 'etcd/server.crt'), 'utf8'), before, 'nothing rewritten')

  // what verify catches on import: usages the CA left out, SANs it dropped, a certificate for another key, another CA
  await writeFile(join(outside, 'server-only.ext'), 'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nsubjectAltName=DNS:n1\n')
  sign('etcd/server', ['-extfile', join(outside, 'server-only.ext')])
  await copyFile(join(dir, 'etcd/healthcheck-client.key'), join(dir, 'etcd/peer.key'))
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(outside, 'other.key'), '-out', join(outside, 'other.crt'), '-days', '30', '-subj', '/CN=kube-apiserver-etcd-client')
  await copyFile(join(outside, 'other.crt'), join(dir, 'apiserver-etcd-client.crt'))
  const bad = await certsCli('verify', '--dir', dir, '--host', 'n1', '--ip', '10.0.0.11', '-o', 'json')
  t.equal(bad.code, 1)
  const { problems } = JSON.parse(bad.stdout) as { problems: { file: string; reason: string }[] }
  const reasons = (base: string) => problems.filter((p) => p.file === join(dir, base)).map((p) => p.reason)
  t.match(reasons('etcd/server.crt'), ['extended key usage lacks clientAuth (has serverAuth)', /^does not cover IP 10\.0\.0\.11/])
  t.same(reasons('etcd/peer.key'), ['private key does not match its certificate'])
  t.match(reasons('apiserver-etcd-client.key'), ['private key does not match its certificate'])
  t.match(reasons('apiserver-etcd-client.crt'), [/^not signed by any CA in .*etcd\/ca\.crt \(issuer CN=kube-apiserver-etcd-client\)$/, 'is a CA certificate, expected a leaf', 'extended key usage lacks clientAuth (has none)', 'key usage lacks digitalSignature or keyEncipherment'])
})

t.test('generate-csr never overwrites a key', async (t) => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'etcd'))
  await writeFile(join(dir, 'etcd/server.key'), 'in use', { mode: 0o600 })
  const r = await certsCli('generate-csr', '--dir', dir, '--node-name', 'n1', '--advertise-address', '10.0.0.11')
  t.equal(r.code, 1)
  t.equal(r.stderr, `error: ${join(dir, 'etcd/server.key')}: exists; a CSR gets a new key, so move the old key away first\n`)
  t.equal(await readFile(join(dir, 'etcd/server.key'), 'utf8'), 'in use')
})
