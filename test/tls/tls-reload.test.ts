import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { basename, join } from 'node:path'
import t from 'tap'
import { clientSubject, filesAt, filesOf, issueCert, leafSubject, readKeyPair, writeFileAtomic, writeKeyPair } from '../../pki/index.js'
import { certsCli } from '../pki/cli-runner.js'
import { startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodeGet, nodePost, opensslServedSerial, sameSerial, servedSerial, type ClientTls } from '../helpers/tls-client.js'
import { mtlsArgs, pkiFor, PUT, RANGE, serialOfFile, stopServe } from '../helpers/tls-serve-fixture.js'

t.test('renew on disk: the next handshake shows the new serial, an open keep-alive connection keeps working', async (t) => {
  const pki = await pkiFor(t)
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  const tls: ClientTls = { ca: pki.ca, client: pki.client }
  const oldSerial = serialOfFile(pki.server.cert)
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(pki.ca), cert: readFileSync(pki.client.cert), key: readFileSync(pki.client.key) })
  t.teardown(() => agent.destroy())
  const first = await nodePost(`${server.url}/v3/kv/put`, PUT, tls, agent)
  t.equal(first.status, 200)
  t.ok(sameSerial(first.serial, oldSerial))

  const renew = await certsCli('renew', 'etcd-server', '--dir', pki.dir)
  t.equal(renew.code, 0, renew.stderr)
  const newSerial = serialOfFile(pki.server.cert)
  t.not(newSerial, oldSerial)
  t.ok(await eventually(async () => sameSerial(await servedSerial(server.url, tls), newSerial)), 'a new handshake (Node) presents the renewed certificate')
  t.ok(sameSerial(await opensslServedSerial(server.url, tls), newSerial), 'openssl s_client sees the new serial')

  const again = await nodePost(`${server.url}/v3/kv/range`, RANGE, tls, agent)
  t.equal(again.status, 200)
  t.ok(again.reusedSocket, 'the request went over the connection opened before the renewal')
  t.ok(sameSerial(again.serial, oldSerial), 'that connection still has the old certificate')
  t.match(again.body, /"value":"YmFy"/)
  t.equal(server.child.exitCode, null, 'no restart')
  await stopServe(server)
})

t.test('a key and certificate that do not match are logged and ignored until a good pair arrives', async (t) => {
  const pki = await pkiFor(t)
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  const tls: ClientTls = { ca: pki.ca, client: pki.client }
  const oldSerial = serialOfFile(pki.server.cert)
  // another pair's key over server.key: the certificate on disk no longer matches it
  await writeFileAtomic(pki.server.key, readFileSync(filesOf(pki.dir, 'etcd-peer').key), 0o600)
  await server.waitForOutput(/private key does not match the certificate in [^"]*server\.crt[^"]*","msg":"TLS files changed but cannot be used; still serving the previous ones"/)
  t.ok(sameSerial(await servedSerial(server.url, tls), oldSerial), 'still serving the previous pair')
  t.equal((await nodePost(`${server.url}/v3/kv/range`, RANGE, tls)).status, 200)
  // a half-written certificate file is no better
  await writeFileAtomic(pki.server.cert, readFileSync(pki.server.cert, 'utf8').slice(0, 300), 0o644)
  await server.waitForOutput(/no PEM CERTIFICATE block","msg":"TLS files changed but cannot be used/)
  t.ok(sameSerial(await servedSerial(server.url, tls), oldSerial))

  const ca = await readKeyPair(filesOf(pki.dir, 'etcd-ca'))
  const pair = await issueCert({ ...clientSubject('node-1'), ipAddresses: ['127.0.0.1'], usages: ['serverAuth', 'clientAuth'] }, ca, { keyType: 'RSA-2048', validityMs: 86_400_000 * 365, now: new Date() })
  await writeKeyPair(pki.server, pair)
  const fixed = serialOfFile(pki.server.cert)
  t.ok(await eventually(async () => sameSerial(await servedSerial(server.url, tls), fixed)), 'the good pair is picked up')
  await stopServe(server)
})

t.test('rotate-ca through all stages: new-CA clients accepted after stage 1, old ones rejected after stage 3, no restart', async (t) => {
  const pki = await pkiFor(t)
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  // stage 2 re-issues the tree's own client certificates: keep one from the old CA aside
  const oldClientFiles = filesAt(pki.dir, 'clients/old-ca')
  await writeKeyPair(oldClientFiles, await readKeyPair(pki.client))
  const oldClient: ClientTls = { ca: pki.ca, client: oldClientFiles }
  const stage = async (n: number) => {
    const r = await certsCli('rotate-ca', '--dir', pki.dir)
    t.equal(r.code, 0, `stage ${n}: ${r.stderr}`)
  }
  const accepted = async (tls: ClientTls) => (await nodePost(`${server.url}/v3/kv/range`, RANGE, tls).catch(() => undefined))?.status === 200

  await stage(1)
  const issued = await certsCli('issue', 'client', '--dir', pki.dir, '--user', 'alice', '--out-dir', join(pki.dir, 'new-ca-clients'))
  t.equal(issued.code, 0, issued.stderr)
  const newClient: ClientTls = { ca: pki.ca, client: filesAt(pki.dir, 'new-ca-clients/alice') }
  t.ok(await eventually(() => accepted(newClient)), 'stage 1: a client of the new CA is accepted')
  t.ok(await accepted(oldClient), 'stage 1: a client of the old CA still is')

  await stage(2)
  const newServerSerial = serialOfFile(pki.server.cert)
  t.ok(await eventually(async () => sameSerial(await servedSerial(server.url, newClient), newServerSerial)), 'stage 2: the server certificate from the new CA is served')
  t.ok(await accepted(oldClient), 'stage 2: old-CA clients still accepted')

  // TLS 1.2 so that the session is cached on the agent when the request ends
  const resuming = new Agent({ keepAlive: false, maxVersion: 'TLSv1.2', ca: readFileSync(pki.ca), cert: readFileSync(oldClientFiles.cert), key: readFileSync(oldClientFiles.key) })
  await nodePost(`${server.url}/v3/kv/range`, RANGE, oldClient, resuming)
  t.ok((await nodePost(`${server.url}/v3/kv/range`, RANGE, oldClient, resuming)).sessionReused, 'the old-CA client resumes its TLS session')

  await stage(3)
  t.ok(await eventually(async () => !(await accepted(oldClient))), 'stage 3: a client of the old CA is rejected')
  await t.rejects(nodePost(`${server.url}/v3/kv/range`, RANGE, oldClient, resuming), 'stage 3: resuming a session from before does not get it past the new trust')
  t.ok(await accepted(newClient), 'stage 3: a client of the new CA is accepted')
  t.equal(server.child.exitCode, null, 'no restart')
  await stopServe(server)
})

t.test('metrics: not-after and seconds-to-expiry of the served certificate and each trusted CA; warnings under 30 days', async (t) => {
  const pki = await pkiFor(t)
  const ca = await readKeyPair(filesOf(pki.dir, 'etcd-ca'))
  const DAY = 86_400_000
  const serverSubject = leafSubject('etcd-server', { nodeName: 'node-1', advertiseAddress: '127.0.0.1' })
  await writeKeyPair(pki.server, await issueCert(serverSubject, ca, { keyType: 'RSA-2048', validityMs: 10 * DAY, now: new Date() }))
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  await server.waitForOutput(/"msg":"served certificate [^ ]*server\.crt \(CN=node-1, serial [0-9A-F]+\) expires in 9 days, at 20/)
  t.notMatch(server.output(), /trusted ca certificate/, 'the CA has ten years left')

  const scrape = async () => {
    const r = await nodeGet(`${server.url}/metrics`, { ca: pki.ca, client: pki.client })
    t.equal(r.status, 200)
    return r.body
  }
  const valueOf = (text: string, name: string, file: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{filename="${basename(file)}",filepath="${file}"`))
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  const check = (text: string, file: string, cert: X509Certificate) => {
    const notAfter = Date.parse(cert.validTo) / 1000
    t.equal(valueOf(text, 'x509_cert_not_after', file), notAfter, `${file} not-after`)
    t.equal(valueOf(text, 'x509_cert_not_before', file), Date.parse(cert.validFrom) / 1000, `${file} not-before`)
    t.equal(valueOf(text, 'x509_cert_expired', file), 0, `${file} not expired`)
    const left = valueOf(text, 'x509_cert_expires_in_seconds', file)!
    t.ok(Math.abs(left - (notAfter - Date.now() / 1000)) < 60, `${file} seconds to expiry: ${left}`)
  }
  const body = await scrape()
  t.match(body, '# TYPE x509_cert_not_after gauge')
  const served = new X509Certificate(readFileSync(pki.server.cert))
  t.match(body, `x509_cert_not_after{filename="server.crt",filepath="${pki.server.cert}",serial_number="${BigInt(`0x${served.serialNumber}`)}",issuer_CN="etcd-ca",subject_CN="node-1"}`)
  check(body, pki.server.cert, served)
  check(body, pki.ca, new X509Certificate(readFileSync(pki.ca)))

  // a reload to another short-lived certificate warns again and the gauges follow it
  await writeKeyPair(pki.server, await issueCert(serverSubject, ca, { keyType: 'RSA-2048', validityMs: 5 * DAY, now: new Date() }))
  await server.waitForOutput(/"msg":"served certificate [^ ]*server\.crt \(CN=node-1, serial [0-9A-F]+\) expires in 4 days/)
  const renewed = new X509Certificate(readFileSync(pki.server.cert))
  const after = await scrape()
  check(after, pki.server.cert, renewed)
  t.equal(after.split('\n').filter((l) => l.startsWith(`x509_cert_not_after{filename="server.crt",filepath="${pki.server.cert}"`)).length, 1, 'only the certificate in use')

  // rotate-ca stage 1: both CAs of the bundle are trusted and both show up
  t.equal((await certsCli('rotate-ca', '--dir', pki.dir)).code, 0)
  t.ok(await eventually(async () => (await scrape()).split('\n').filter((l) => l.startsWith(`x509_cert_not_after{filename="ca.crt",filepath="${pki.ca}"`)).length === 2))
  await stopServe(server)
})
