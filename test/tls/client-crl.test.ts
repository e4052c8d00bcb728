import { execFileSync, spawnSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { clientSubject, DEFAULT_CERT_VALIDITY_MS, filesAt, filesOf, issueCert, readKeyPair, writeFileAtomic, writeKeyPair } from '../../pki/index.js'
import { MAIN, startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodePost, type ClientTls } from '../helpers/tls-client.js'
import { mtlsArgs, pkiFor, PUT, serialOfFile, stopServe } from '../helpers/tls-serve-fixture.js'

/**
 * etcd's --client-crl-file: a client certificate whose serial the list revokes is refused right after the
 * handshake; the file is followed like the other TLS files. openssl is the CA that keeps the list.
 */
t.test('--client-crl-file refuses revoked client certificates and follows the file', async (t) => {
  const pki = await pkiFor(t)
  const ca = await readKeyPair(filesOf(pki.dir, 'etcd-ca'))
  const alice = filesAt(pki.dir, 'clients/alice')
  await writeKeyPair(alice, await issueCert(clientSubject('alice'), ca, { keyType: 'ECDSA-P256', validityMs: DEFAULT_CERT_VALIDITY_MS, now: new Date() }))
  const crlDir = join(pki.dir, 'crl')
  await mkdir(join(crlDir, 'newcerts'), { recursive: true })
  await writeFile(join(crlDir, 'index.txt'), '')
  const config = join(crlDir, 'ca.cnf')
  await writeFile(config, `[ca]\ndefault_ca = etcd\n[etcd]\ndatabase = ${crlDir}/index.txt\nnew_certs_dir = ${crlDir}/newcerts\ncertificate = ${pki.ca}\nprivate_key = ${filesOf(pki.dir, 'etcd-ca').key}\ndefault_md = sha256\ndefault_crl_days = 30\n`)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  const crlFile = join(pki.dir, 'client.crl')
  const publishCrl = async (der = false) => {
    openssl('ca', '-config', config, '-gencrl', '-out', join(crlDir, 'next.pem'))
    const pem = await readFile(join(crlDir, 'next.pem'))
    await writeFileAtomic(crlFile, der ? execFileSync('openssl', ['crl', '-outform', 'DER'], { input: pem }) : pem, 0o644)
  }
  await publishCrl()

  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data'), ['--client-crl-file', crlFile, '--log-level', 'info']))
  const as = (client: ClientTls['client']): ClientTls => ({ ca: pki.ca, client: client! })
  const accepted = async (client: ClientTls['client']) => (await nodePost(`${server.url}/v3/kv/put`, PUT, as(client)).catch(() => undefined))?.status === 200
  t.ok(await accepted(pki.client), 'an empty list refuses no one')
  t.ok(await accepted(alice))

  openssl('ca', '-config', config, '-revoke', alice.cert)
  await publishCrl()
  t.ok(await eventually(async () => !(await accepted(alice))), 'alice refused once the list revokes her certificate')
  await t.rejects(nodePost(`${server.url}/v3/kv/put`, PUT, as(alice)), /socket hang up|ECONNRESET/, 'the connection is closed before any response')
  const curl = spawnSync('curl', ['-sS', '-m', '5', '--cacert', pki.ca, '--cert', alice.cert, '--key', alice.key, '-X', 'POST', `${server.url}/v3/kv/put`, '-d', PUT], { encoding: 'utf8' })
  t.not(curl.status, 0, 'curl with the revoked certificate fails')
  t.notMatch(curl.stdout, /revision/)
  t.ok(await accepted(pki.client), 'other clients still served')
  await server.waitForOutput(new RegExp(`"error":"transport: certificate serial ${serialOfFile(alice.cert).replace(/^0+/, '')} revoked","msg":"rejected connection"`))

  // a list that does not parse leaves the previous one in force
  await writeFileAtomic(crlFile, 'not a CRL\n', 0o644)
  await server.waitForOutput(/"error":"--client-crl-file [^"]*client\.crl: cannot parse certificate revocation list[^"]*","msg":"TLS files changed but cannot be used; still serving the previous ones"/)
  t.notOk(await accepted(alice), 'still refused')

  // DER works too, and a list without alice lets her in again
  await writeFile(join(crlDir, 'index.txt'), '')
  await publishCrl(true)
  t.ok(await eventually(async () => accepted(alice)), 'alice accepted once the list (DER) no longer revokes her')
  await stopServe(server)

  const bad = spawnSync(process.execPath, [MAIN, 'serve', ...mtlsArgs(pki, join(pki.dir, 'data2'), ['--client-crl-file', pki.server.key])], { encoding: 'utf8', timeout: 20_000 })
  t.equal(bad.status, 2, 'an unusable list at start is a usage error')
  t.match(bad.stderr, `--client-crl-file ${pki.server.key}: cannot parse certificate revocation list`)
})
