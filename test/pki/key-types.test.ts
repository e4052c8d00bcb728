import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { DEFAULT_CERT_VALIDITY_MS, filesOf, KEY_TYPES, renewCert, type KeyType } from '../../pki/index.js'
import { startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodePost, opensslServedSerial, run, sameSerial } from '../helpers/tls-client.js'
import { certsCli } from './cli-runner.js'
import { clientFiles, etcdAvailable, EtcdCluster } from './etcd-cluster.js'
import { tempDir } from './fixture.js'
import { stopServe } from '../helpers/tls-serve-fixture.js'

// Every key type through openssl, a real 3-member etcd 3.4 cluster (peer and client TLS) and the gateway.
const hasEtcd = await etcdAvailable()
if (!hasEtcd && process.env.CI === 'true') t.fail('etcd is not installed (apt-get install etcd-server etcd-client)')

/** What openssl prints for each type: public key algorithm, and the signature algorithm of a certificate signed by such a key. */
const OPENSSL: Record<KeyType, { key: RegExp; signature: string; pem: string }> = {
  'RSA-2048': { key: /Public-Key: \(2048 bit\)/, signature: 'sha256WithRSAEncryption', pem: 'RSA PRIVATE KEY' },
  'RSA-3072': { key: /Public-Key: \(3072 bit\)/, signature: 'sha256WithRSAEncryption', pem: 'RSA PRIVATE KEY' },
  'RSA-4096': { key: /Public-Key: \(4096 bit\)/, signature: 'sha256WithRSAEncryption', pem: 'RSA PRIVATE KEY' },
  'ECDSA-P256': { key: /ASN1 OID: prime256v1/, signature: 'ecdsa-with-SHA256', pem: 'EC PRIVATE KEY' },
  'ECDSA-P384': { key: /ASN1 OID: secp384r1/, signature: 'ecdsa-with-SHA384', pem: 'EC PRIVATE KEY' },
  'ED25519': { key: /Public Key Algorithm: ED25519/, signature: 'ED25519', pem: 'PRIVATE KEY' },
}

const LEAVES = ['etcd/server', 'etcd/peer', 'etcd/healthcheck-client', 'apiserver-etcd-client']

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' })

async function ok(t: Test, what: string, result: Promise<{ code: number; stdout: string; stderr: string }>) {
  const r = await result
  t.equal(r.code, 0, what, { stdout: r.stdout, stderr: r.stderr })
  return r
}

const cases: { caType: KeyType; leafType: KeyType }[] = [
  ...KEY_TYPES.map((type) => ({ caType: type, leafType: type })),
  // a CA and its leaves may differ
  { caType: 'ED25519', leafType: 'ECDSA-P384' },
  { caType: 'ECDSA-P256', leafType: 'RSA-2048' },
]

for (const { caType, leafType } of cases) {
  t.test(`${caType === leafType ? caType : `CA ${caType}, leaves ${leafType}`}: openssl verifies every profile`, async (t) => {
    const dir = join(await tempDir(t), 'pki')
    await ok(t, 'certs init', certsCli('init', '--dir', dir, '--node-name', 'n1', '--advertise-address', '127.0.0.1', '--key-type', leafType, '--ca-key-type', caType))
    const ca = join(dir, 'etcd/ca.crt')
    const caText = openssl('x509', '-in', ca, '-noout', '-text')
    t.match(caText, OPENSSL[caType].key, 'CA key type')
    t.match(caText, new RegExp(`Signature Algorithm: ${OPENSSL[caType].signature}`), 'CA self-signature')
    t.match(readFileSync(join(dir, 'etcd/ca.key'), 'utf8'), new RegExp(`^-----BEGIN ${OPENSSL[caType].pem}-----\\n`), 'ca.key PEM form')
    openssl('pkey', '-in', join(dir, 'etcd/ca.key'), '-check', '-noout')
    for (const base of LEAVES) {
      const cert = join(dir, `${base}.crt`)
      t.equal(openssl('verify', '-CAfile', ca, cert), `${cert}: OK\n`, `openssl verify ${cert}`)
      const text = openssl('x509', '-in', cert, '-noout', '-text')
      t.match(text, OPENSSL[leafType].key, `${base} key type`)
      t.match(text, new RegExp(`Signature Algorithm: ${OPENSSL[caType].signature}`), `${base} signed with the CA's algorithm`)
      const purpose = openssl('x509', '-in', cert, '-noout', '-purpose')
      t.match(purpose, /SSL client : Yes/, `${base} may be a TLS client`)
      if (base === 'etcd/server' || base === 'etcd/peer') t.match(purpose, /SSL server : Yes/, `${base} may be a TLS server`)
      t.match(readFileSync(join(dir, `${base}.key`), 'utf8'), new RegExp(`^-----BEGIN ${OPENSSL[leafType].pem}-----\\n`), `${base}.key PEM form`)
      openssl('pkey', '-in', join(dir, `${base}.key`), '-check', '-noout')
    }
    t.equal((await certsCli('verify', '--dir', dir, '--host', 'n1', '--ip', '127.0.0.1')).code, 0, 'certs verify passes')
  })
}

/**
 * Three clusters cover every type as server and peer certificate of a member (each member's peer certificate is
 * both server and client to the others), as client certificate of etcdctl, and three CA types.
 */
const clusters: { ca: KeyType; members: [KeyType, KeyType, KeyType]; clients: KeyType[] }[] = [
  { ca: 'RSA-2048', members: ['RSA-3072', 'RSA-4096', 'ECDSA-P256'], clients: ['ECDSA-P384', 'ED25519'] },
  { ca: 'ECDSA-P384', members: ['ECDSA-P384', 'ED25519', 'RSA-2048'], clients: ['RSA-3072', 'ECDSA-P256'] },
  { ca: 'ED25519', members: ['ED25519', 'ECDSA-P256', 'RSA-2048'], clients: ['RSA-4096', 'ED25519'] },
]

// the clusters mostly wait (elections, handshakes), so they run at the same time
t.test('real 3-member etcd clusters', { jobs: clusters.length, skip: hasEtcd ? false : 'etcd is not installed; CI=true makes this a failure' }, async (t) => {
  for (const spec of clusters) {
    t.test(`CA ${spec.ca}, members ${spec.members.join(', ')}, clients ${spec.clients.join(', ')}`, async (t) => {
      const root = await tempDir(t)
      const dirs = ['n1', 'n2', 'n3'].map((n) => join(root, n))
      await ok(t, 'certs init n1', certsCli('init', '--dir', dirs[0]!, '--node-name', 'n1', '--advertise-address', '127.0.0.1', '--ca-key-type', spec.ca, '--key-type', spec.members[0]))
      for (const i of [1, 2]) {
        await ok(t, `certs issue member n${i + 1}`, certsCli('issue', 'member', '--dir', dirs[0]!, '--out-dir', dirs[i]!, '--node-name', `n${i + 1}`, '--advertise-address', '127.0.0.1', '--key-type', spec.members[i]!))
      }
      for (const type of spec.clients) await ok(t, `client ${type}`, certsCli('issue', 'client', '--dir', dirs[0]!, '--user', type.toLowerCase(), '--out-dir', join(root, 'clients'), '--key-type', type))

      const cluster = await EtcdCluster.start(dirs.map((pkiDir, i) => ({ name: `n${i + 1}`, pkiDir })))
      t.teardown(() => cluster.stop())
      const members = await cluster.etcdctl(['member', 'list'], clientFiles(dirs[0]!, 'apiserver-etcd-client'))
      t.equal(members.stdout.match(/, started, n[123],/g)?.length, 3, 'peer TLS: three members joined')
      t.equal((await cluster.etcdctl(['put', 'k', spec.ca], clientFiles(dirs[0]!, 'apiserver-etcd-client'), `https://127.0.0.1:${cluster.members[0]!.clientPort}`)).code, 0, 'a put on n1')
      for (const type of spec.clients) {
        for (const member of cluster.members) {
          const get = await cluster.etcdctl(['get', 'k', '--print-value-only'], clientFiles(dirs[0]!, `../clients/${type.toLowerCase()}`), `https://127.0.0.1:${member.clientPort}`)
          t.equal(get.stdout.trim(), spec.ca, `client TLS: ${type} client reads from ${member.name}, replicated over peer TLS`, { stderr: get.stderr })
        }
      }
    })
  }
})

t.test('the gateway serves every key type and reloads from one to the next', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'etcdgw-keytype-gw-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, 'pki')
  await ok(t, 'certs init', certsCli('init', '--dir', dir, '--node-name', 'node-1', '--advertise-address', '127.0.0.1', '--ca-key-type', 'ECDSA-P256'))
  const server = filesOf(dir, 'etcd-server')
  const client = filesOf(dir, 'etcd-healthcheck-client')
  const ca = filesOf(dir, 'etcd-ca').cert
  const gateway = await startServe(t, ['--listen-client-urls', 'https://127.0.0.1:0', '--data-dir', join(root, 'data'), '--cert-file', server.cert, '--key-file', server.key, '--client-cert-auth', '--trusted-ca-file', ca])
  const url = gateway.url
  for (const type of KEY_TYPES) {
    for (const name of ['etcd-server', 'etcd-healthcheck-client'] as const) await renewCert(name, { dir, validityMs: DEFAULT_CERT_VALIDITY_MS, now: new Date(), keyType: type })
    const serial = openssl('x509', '-in', server.cert, '-noout', '-serial').trim().replace(/^serial=/, '')
    t.ok(await eventually(async () => sameSerial(await opensslServedSerial(url, { ca, client }), serial)), `${type}: the reloaded certificate is served`)
    const reply = await nodePost(`${url}/v3/kv/put`, JSON.stringify({ key: 'aw==', value: Buffer.from(type).toString('base64') }), { ca, client })
    t.equal(reply.status, 200, `${type}: a put over mTLS with a ${type} client certificate`)
    const sClient = await run('sh', ['-c', `openssl s_client -connect ${url.slice('https://'.length)} -CAfile '${ca}' -cert '${client.cert}' -key '${client.key}' -verify_return_error -brief </dev/null`])
    t.match(sClient.stderr, /Verification: OK/, `${type}: openssl s_client verifies the served chain`)
  }
  await stopServe(gateway)
})
