import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { CA_NAME, clientSubject, createCA, filesAt, filesOf, issueCert, readKeyPair, writeKeyPair } from '../../pki/index.js'
import { certsCli } from './cli-runner.js'
import { clientFiles, etcdAvailable, EtcdCluster, run, type TlsFiles } from './etcd-cluster.js'

// A real 3-member etcd 3.4 cluster on loopback whose every certificate comes from `etcdgw certs`.
const hasEtcd = await etcdAvailable()
if (!hasEtcd && process.env.CI === 'true') t.fail('etcd is not installed (apt-get install etcd-server etcd-client)')
t.test('real 3-member etcd cluster with certificates from etcdgw certs', { skip: hasEtcd ? false : 'etcd is not installed; CI=true makes this a failure' }, clusterTests)

async function clusterTests(t: Test): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'etcdgw-pki-cluster-'))
  const dirs = ['n1', 'n2', 'n3'].map((n) => join(root, n))
  const [d1, d2, d3] = dirs as [string, string, string]
  t.teardown(() => rm(root, { recursive: true, force: true }))

  const ok = async (what: string, result: Promise<{ code: number; stdout: string; stderr: string }>) => {
    const r = await result
    t.equal(r.code, 0, what, { stdout: r.stdout, stderr: r.stderr })
    return r
  }
  await ok('certs init n1', certsCli('init', '--dir', d1, '--node-name', 'n1', '--advertise-address', '127.0.0.1'))
  await ok('certs issue member n2', certsCli('issue', 'member', '--dir', d1, '--out-dir', d2, '--node-name', 'n2', '--advertise-address', '127.0.0.1'))
  await ok('certs issue member n3', certsCli('issue', 'member', '--dir', d1, '--out-dir', d3, '--node-name', 'n3', '--advertise-address', '127.0.0.1'))
  await ok('certs issue client alice', certsCli('issue', 'client', '--dir', d1, '--user', 'alice', '--out-dir', join(root, 'clients')))

  const cluster = await EtcdCluster.start(dirs.map((pkiDir, i) => ({ name: `n${i + 1}`, pkiDir })))
  t.teardown(() => cluster.stop())
  const port = cluster.members[0]!.clientPort
  const apiserver = clientFiles(d1, 'apiserver-etcd-client')
  const healthcheck = clientFiles(d1, 'etcd/healthcheck-client')

  await t.test('clients with certificates from certs init / issue are accepted', async (t) => {
    const health = await cluster.etcdctl(['endpoint', 'health'], healthcheck)
    t.equal(health.code, 0, 'etcdctl endpoint health with healthcheck-client', { stderr: health.stderr })
    t.equal((health.stdout + health.stderr).match(/is healthy/g)?.length, 3, 'all three members healthy')
    t.equal((await cluster.etcdctl(['put', 'foo', 'bar'], apiserver)).code, 0, 'etcdctl put with apiserver-etcd-client')
    const get = await cluster.etcdctl(['get', 'foo', '--print-value-only'], clientFiles(d1, '../clients/alice'))
    t.equal(get.stdout.trim(), 'bar', 'etcdctl get with an issued user certificate')
    const members = await cluster.etcdctl(['member', 'list'], apiserver)
    t.equal(members.stdout.match(/, started, n[123],/g)?.length, 3, 'three members joined over peer TLS')
    const range = await curl(port, apiserver)
    t.equal(range.code, 0, 'curl with apiserver-etcd-client', { stderr: range.stderr })
    t.match(JSON.parse(range.stdout), { kvs: [{ key: 'Zm9v', value: 'YmFy' }] }, 'gateway JSON through mTLS')
    t.equal((await curl(port, healthcheck)).code, 0, 'curl with healthcheck-client')
  })

  await t.test('clients without a valid certificate are rejected', async (t) => {
    const bad = join(root, 'bad')
    const ca = await readKeyPair(filesOf(d1, CA_NAME))
    const now = new Date()
    const other = await createCA({ keyType: 'RSA-2048', validityMs: 3_600_000, now })
    await writeKeyPair(filesAt(bad, 'other-ca-client'), await issueCert(clientSubject('kube-apiserver-etcd-client'), other, { keyType: 'RSA-2048', validityMs: 3_600_000, now }))
    await writeKeyPair(filesAt(bad, 'expired'), await issueCert(clientSubject('kube-apiserver-etcd-client'), ca, { keyType: 'RSA-2048', validityMs: 3_600_000, now: new Date(now.getTime() - 2 * 86_400_000) }))
    await writeKeyPair(filesAt(bad, 'server-auth-only'), await issueCert({ ...clientSubject('kube-apiserver-etcd-client'), usages: ['serverAuth'] }, ca, { keyType: 'RSA-2048', validityMs: 3_600_000, now }))
    const caFile = join(d1, 'etcd/ca.crt')
    const cases: Array<[string, TlsFiles]> = [
      ['no client certificate', { ca: caFile }],
      ['a certificate from another CA', { ca: caFile, cert: join(bad, 'other-ca-client.crt'), key: join(bad, 'other-ca-client.key') }],
      ['an expired certificate', { ca: caFile, cert: join(bad, 'expired.crt'), key: join(bad, 'expired.key') }],
      ['a serverAuth-only certificate', { ca: caFile, cert: join(bad, 'server-auth-only.crt'), key: join(bad, 'server-auth-only.key') }],
    ]
    for (const [what, tls] of cases) {
      const r = await curl(port, tls)
      t.not(r.code, 0, `curl rejected with ${what}`, { stdout: r.stdout })
      t.not(r.stdout.includes('"kvs"'), true, `no data returned with ${what}`)
    }
    for (const [what, tls] of [cases[0]!, cases[1]!]) {
      const r = await cluster.etcdctl(['get', 'foo'], tls, `https://127.0.0.1:${port}`)
      t.not(r.code, 0, `etcdctl rejected with ${what}`)
    }
  })

  await t.test('certs renew all while the cluster runs: next handshake serves the new certificates', async (t) => {
    const before = await servedCert(port, apiserver)
    const r = await ok('certs renew all', certsCli('renew', 'all', '--dir', d1))
    t.match(r.stdout, /^certificate for serving etcd renewed \(etcd-server, serial [0-9A-F]+\)/m)
    const onDisk = new X509Certificate(await readFile(join(d1, 'etcd/server.crt')))
    t.not(onDisk.serialNumber, before.serialNumber, 'renew wrote a new serial')
    const after = await servedCert(port, clientFiles(d1, 'apiserver-etcd-client'))
    t.equal(after.serialNumber, onDisk.serialNumber, 'openssl s_client sees the renewed server certificate without a restart')
    const peer = await servedCert(cluster.members[0]!.peerPort, apiserver)
    t.equal(peer.serialNumber, new X509Certificate(await readFile(join(d1, 'etcd/peer.crt'))).serialNumber, 'the peer port serves the renewed peer certificate')
    t.equal((await cluster.etcdctl(['put', 'after-renew', 'x'], apiserver)).code, 0, 'renewed client certificate works')
    t.equal((await cluster.etcdctl(['endpoint', 'health'], healthcheck)).code, 0, 'cluster still healthy')
  })

  await t.test('certs rotate-ca through all stages against the running cluster', async (t) => {
    const oldClient = join(root, 'old-ca-client')
    await ok('old-CA client kept for later', certsCli('issue', 'client', '--dir', d1, '--user', 'old', '--out-dir', oldClient))
    const shareTrust = () => Promise.all([copyFile(join(d1, 'etcd/ca.crt'), join(d2, 'etcd/ca.crt')), copyFile(join(d1, 'etcd/ca.crt'), join(d3, 'etcd/ca.crt'))])

    t.match((await ok('stage 1', certsCli('rotate-ca', '--dir', d1))).stdout, /idle -> trust-both/)
    await shareTrust()
    await cluster.restartAll()
    t.equal((await cluster.etcdctl(['get', 'foo'], apiserver)).code, 0, 'old-CA client accepted after stage 1')

    t.match((await ok('stage 2', certsCli('rotate-ca', '--dir', d1))).stdout, /trust-both -> reissued/)
    for (const [dir, name] of [[d2, 'n2'], [d3, 'n3']] as const) {
      await ok(`re-issue ${name}`, certsCli('issue', 'member', '--dir', d1, '--out-dir', dir, '--node-name', name, '--advertise-address', '127.0.0.1'))
    }
    const newCa = new X509Certificate(await readFile(join(d1, 'etcd/ca.crt')))
    for (const member of cluster.members) {
      const served = await servedCert(member.clientPort, apiserver)
      t.ok(served.checkIssued(newCa) && served.verify(newCa.publicKey), `${member.name} serves a certificate from the new CA without restart`)
    }
    t.equal((await cluster.etcdctl(['endpoint', 'health'], healthcheck)).code, 0, 'new-CA client accepted, cluster healthy')
    t.equal((await cluster.etcdctl(['get', 'foo'], { ...clientFiles(oldClient, 'old'), ca: join(d1, 'etcd/ca.crt') })).code, 0, 'old-CA client still accepted')

    t.match((await ok('stage 3', certsCli('rotate-ca', '--dir', d1))).stdout, /reissued -> idle/)
    await shareTrust()
    await cluster.restartAll()
    t.equal((await cluster.etcdctl(['put', 'after-rotation', 'x'], apiserver)).code, 0, 'new-CA client works after finalize')
    const rejected = await curl(port, { ca: join(d1, 'etcd/ca.crt'), cert: join(oldClient, 'old.crt'), key: join(oldClient, 'old.key') })
    t.not(rejected.code, 0, 'old-CA client rejected once the old CA is dropped')
    t.equal((await ok('verify after rotation', certsCli('verify', '--dir', d1, '--host', 'n1', '--ip', '127.0.0.1'))).code, 0)
  })
}

function curl(port: number, tls: TlsFiles) {
  const certArgs = tls.cert ? ['--cert', tls.cert, '--key', tls.key!] : []
  return run('curl', ['-sS', '--max-time', '5', '--cacert', tls.ca, ...certArgs, '-X', 'POST', `https://127.0.0.1:${port}/v3/kv/range`, '-d', '{"key":"Zm9v"}'], 10_000)
}

/** The certificate a TLS server presents, as `openssl s_client` sees it on a fresh handshake. */
function servedCert(port: number, tls: TlsFiles): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', tls.ca, ...(tls.cert ? ['-cert', tls.cert, '-key', tls.key!] : [])]
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] })
    let out = ''
    child.stdout.on('data', (chunk) => (out += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.on('close', () => {
      clearTimeout(timer)
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)
      if (pem) resolve(new X509Certificate(pem[0]))
      else reject(new Error(`openssl s_client to port ${port} returned no certificate`))
    })
  })
}
