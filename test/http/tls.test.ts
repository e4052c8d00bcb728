import { X509Certificate } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { Agent } from 'node:https'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { clientSubject, filesAt, filesOf, issueCert, leafSubject, readKeyPair, writeFileAtomic, writeKeyPair } from '../../pki/index.js'
import { certsCli } from '../pki/cli-runner.js'
import { MAIN, startServe, type ServeProcess } from '../helpers/serve-process.js'
import { makeTestPki, removeTestPki, type TestPki } from '../helpers/tls-certs.js'
import { curlPost, eventually, nodeGet, nodePost, opensslServedSerial, run, sameSerial, servedSerial, type ClientTls } from '../helpers/tls-client.js'

const PUT = '{"key":"Zm9v","value":"YmFy"}'
const RANGE = '{"key":"Zm9v"}'

async function pkiFor(t: Test): Promise<TestPki> {
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  return pki
}

function mtlsArgs(pki: TestPki, dataDir: string, extra: string[] = []): string[] {
  return [
    '--listen-client-urls', 'https://127.0.0.1:0', '--data-dir', dataDir,
    '--cert-file', pki.server.cert, '--key-file', pki.server.key,
    '--client-cert-auth', '--trusted-ca-file', pki.ca, ...extra,
  ]
}

const serialOfFile = (file: string) => new X509Certificate(readFileSync(file)).serialNumber

async function stop(server: ServeProcess): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
}

t.test('HTTPS with a server certificate only: curl and Node clients, no client certificate asked', async (t) => {
  const pki = await pkiFor(t)
  // cert and key from etcd's environment variables
  const server = await startServe(t, ['--listen-client-urls', 'https://127.0.0.1:0', '--data-dir', join(pki.dir, 'data')], {
    ETCD_CERT_FILE: pki.server.cert,
    ETCD_KEY_FILE: pki.server.key,
  })
  t.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/)
  t.match(server.output(), `try: curl -s --cacert CA.crt -X POST ${server.url}/v3/kv/put`)
  const anon: ClientTls = { ca: pki.ca }
  const put = await curlPost(`${server.url}/v3/kv/put`, PUT, anon)
  t.equal(put.exitCode, 0, put.stderr)
  t.match(put.stdout, /"revision":"2"/)
  const range = await nodePost(`${server.url}/v3/kv/range`, RANGE, anon)
  t.equal(range.status, 200)
  t.match(range.body, /"value":"YmFy"/)
  t.ok(sameSerial(range.serial, serialOfFile(pki.server.cert)))
  // as etcd without --trusted-ca-file: a client certificate, even one from another CA, is not looked at
  t.equal((await nodePost(`${server.url}/v3/kv/range`, RANGE, { ca: pki.ca, client: pki.otherCaClient })).status, 200)
  const plain = await run('curl', ['-sS', '-m', '5', '-X', 'POST', server.url.replace('https:', 'http:') + '/v3/kv/range', '-d', RANGE])
  t.not(plain.exitCode, 0, 'plain HTTP to the HTTPS port fails')
  t.notMatch(plain.stdout, /header/)
  await stop(server)
})

t.test('mTLS: a client from the trusted CA is accepted; none, another CA, expired, serverAuth-only are rejected', async (t) => {
  const pki = await pkiFor(t)
  // etcd 3.4.23 behaves the same with --client-cert-auth and with --trusted-ca-file alone (measured)
  for (const extra of [[], ['--client-cert-auth=false']]) {
    const args = mtlsArgs(pki, join(pki.dir, `data${extra.length}`), extra)
    const server = await startServe(t, args)
    const url = `${server.url}/v3/kv/range`
    const name = extra.length ? 'trusted CA file alone' : '--client-cert-auth'
    const valid = await nodePost(url, RANGE, { ca: pki.ca, client: pki.client })
    t.equal(valid.status, 200, `${name}: node, valid client`)
    const curlValid = await curlPost(url, RANGE, { ca: pki.ca, client: pki.client })
    t.match(curlValid.stdout, /"header":\{/, `${name}: curl, valid client`)
    t.equal((await curlPost(url, RANGE, { ca: pki.ca, client: pki.client }, ['--tls-max', '1.2'])).exitCode, 0, `${name}: curl TLS 1.2`)

    const rejected: [string, ClientTls, string][] = [
      ['no certificate', { ca: pki.ca }, 'peer did not return a certificate'],
      ['another CA', { ca: pki.ca, client: pki.otherCaClient }, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      ['expired', { ca: pki.ca, client: pki.expiredClient }, 'CERT_HAS_EXPIRED'],
      ['serverAuth only', { ca: pki.ca, client: pki.serverAuthOnlyClient }, 'INVALID_PURPOSE'],
    ]
    for (const [what, tls, reason] of rejected) {
      await t.rejects(nodePost(url, RANGE, tls), `${name}: node, ${what}`)
      for (const tlsMax of [[], ['--tls-max', '1.2']]) {
        const r = await curlPost(url, RANGE, tls, tlsMax)
        t.not(r.exitCode, 0, `${name}: curl ${tlsMax.join(' ')}, ${what}: ${r.stderr.trim()}`)
        t.notMatch(r.stdout, /header/)
      }
      await server.waitForOutput(new RegExp(`"error":"${reason}","msg":"rejected connection"`))
    }
    await stop(server)
  }
})

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
  await stop(server)
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
  const pair = await issueCert({ ...clientSubject('node-1'), ipAddresses: ['127.0.0.1'], usages: ['serverAuth', 'clientAuth'] }, ca, { keySize: 2048, validityMs: 86_400_000 * 365, now: new Date() })
  await writeKeyPair(pki.server, pair)
  const fixed = serialOfFile(pki.server.cert)
  t.ok(await eventually(async () => sameSerial(await servedSerial(server.url, tls), fixed)), 'the good pair is picked up')
  await stop(server)
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
  await stop(server)
})

t.test('metrics: not-after and seconds-to-expiry of the served certificate and each trusted CA; warnings under 30 days', async (t) => {
  const pki = await pkiFor(t)
  const ca = await readKeyPair(filesOf(pki.dir, 'etcd-ca'))
  const DAY = 86_400_000
  const serverSubject = leafSubject('etcd-server', { nodeName: 'node-1', advertiseAddress: '127.0.0.1' })
  await writeKeyPair(pki.server, await issueCert(serverSubject, ca, { keySize: 2048, validityMs: 10 * DAY, now: new Date() }))
  const server = await startServe(t, mtlsArgs(pki, join(pki.dir, 'data')))
  await server.waitForOutput(/"msg":"served certificate [^ ]*server\.crt \(CN=node-1, serial [0-9A-F]+\) expires in 9 days, at 20/)
  t.notMatch(server.output(), /trusted ca certificate/, 'the CA has ten years left')

  const scrape = async () => {
    const r = await nodeGet(`${server.url}/metrics`, { ca: pki.ca, client: pki.client })
    t.equal(r.status, 200)
    return r.body
  }
  const valueOf = (text: string, name: string, role: string, file: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{role="${role}",file="${file}"`))
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  const check = (text: string, role: string, file: string, cert: X509Certificate) => {
    const notAfter = Date.parse(cert.validTo) / 1000
    t.equal(valueOf(text, 'etcdgw_tls_certificate_not_after_seconds', role, file), notAfter, `${role} not-after`)
    const left = valueOf(text, 'etcdgw_tls_certificate_expires_in_seconds', role, file)!
    t.ok(Math.abs(left - (notAfter - Date.now() / 1000)) < 60, `${role} seconds to expiry: ${left}`)
  }
  const body = await scrape()
  t.match(body, '# TYPE etcdgw_tls_certificate_not_after_seconds gauge')
  const served = new X509Certificate(readFileSync(pki.server.cert))
  t.match(body, `etcdgw_tls_certificate_not_after_seconds{role="served",file="${pki.server.cert}",subject="CN=node-1",serial="${served.serialNumber}"}`)
  check(body, 'served', pki.server.cert, served)
  check(body, 'trusted_ca', pki.ca, new X509Certificate(readFileSync(pki.ca)))

  // a reload to another short-lived certificate warns again and the gauges follow it
  await writeKeyPair(pki.server, await issueCert(serverSubject, ca, { keySize: 2048, validityMs: 5 * DAY, now: new Date() }))
  await server.waitForOutput(/"msg":"served certificate [^ ]*server\.crt \(CN=node-1, serial [0-9A-F]+\) expires in 4 days/)
  const renewed = new X509Certificate(readFileSync(pki.server.cert))
  const after = await scrape()
  check(after, 'served', pki.server.cert, renewed)
  t.equal(after.match(/^etcdgw_tls_certificate_not_after_seconds\{role="served"/gm)?.length, 1, 'only the certificate in use')

  // rotate-ca stage 1: both CAs of the bundle are trusted and both show up
  t.equal((await certsCli('rotate-ca', '--dir', pki.dir)).code, 0)
  t.ok(await eventually(async () => (await scrape()).match(/^etcdgw_tls_certificate_not_after_seconds\{role="trusted_ca"/gm)?.length === 2))
  await stop(server)
})

t.test('unusable TLS flags and files: the flag, the file and the reason; exit status 2', async (t) => {
  const pki = await pkiFor(t)
  const https = ['--listen-client-urls', 'https://127.0.0.1:0']
  const garbage = join(pki.dir, 'garbage.pem')
  await writeFileAtomic(garbage, 'not a certificate\n', 0o644)
  const cases: [string[], string | RegExp][] = [
    [https, /TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127\.0\.0\.1:0 with HTTPS scheme/],
    [[...https, '--cert-file', pki.server.cert], '--cert-file and --key-file must both be given'],
    [[...https, '--key-file', pki.server.key], '--cert-file and --key-file must both be given'],
    [[...https, '--cert-file', join(pki.dir, 'nope.crt'), '--key-file', pki.server.key], `--cert-file ${join(pki.dir, 'nope.crt')}: file not found`],
    [[...https, '--cert-file', pki.server.cert, '--key-file', pki.dir], `--key-file ${pki.dir}: is a directory, not a PEM file`],
    [[...https, '--cert-file', pki.server.cert, '--key-file', filesOf(pki.dir, 'etcd-peer').key], `--key-file ${filesOf(pki.dir, 'etcd-peer').key}: private key does not match the certificate in ${pki.server.cert}`],
    [[...https, '--cert-file', garbage, '--key-file', pki.server.key], `--cert-file ${garbage}: no PEM CERTIFICATE block`],
    [[...https, '--cert-file', pki.server.cert, '--key-file', garbage], `--key-file ${garbage}: cannot parse private key`],
    [[...https, '--cert-file', pki.server.cert, '--key-file', pki.server.key, '--trusted-ca-file', garbage], `--trusted-ca-file ${garbage}: no PEM CERTIFICATE block`],
    [[...https, '--cert-file', pki.server.cert, '--key-file', pki.server.key, '--client-cert-auth'], '--client-cert-auth needs --trusted-ca-file'],
    [[...https, '--client-cert-auth=maybe'], /"maybe" is not a boolean/],
    [['--listen-client-urls', 'http://0.0.0.0:2379'], 'http://0.0.0.0:2379 would serve plain HTTP on a non-loopback address; use an https:// URL with --cert-file and --key-file, or pass --insecure-listen-non-loopback'],
    [['--listen-client-urls', 'http://127.0.0.1:0,http://[::]:0'], 'http://[::]:0 would serve plain HTTP on a non-loopback address'],
    [['--listen-client-urls', 'http://etcd.example.com:2379'], 'would serve plain HTTP on a non-loopback address'],
  ]
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', join(pki.dir, 'data'), ...args], { encoding: 'utf8', timeout: 20_000 })
    t.equal(r.status, 2, args.join(' '))
    t.match(r.stderr, message)
  }
  // etcd's environment variables, booleans included
  const env = { ...process.env, ETCD_LISTEN_CLIENT_URLS: 'https://127.0.0.1:0', ETCD_CERT_FILE: pki.server.cert, ETCD_KEY_FILE: pki.server.key, ETCD_CLIENT_CERT_AUTH: 'true' }
  const r = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', join(pki.dir, 'data')], { encoding: 'utf8', timeout: 20_000, env })
  t.equal(r.status, 2)
  t.match(r.stderr, '--client-cert-auth needs --trusted-ca-file')
})

t.test('plain HTTP on a non-loopback address with --insecure-listen-non-loopback: served, with a warning', async (t) => {
  const pki = await pkiFor(t)
  const server = await startServe(t, ['--listen-client-urls', 'http://0.0.0.0:0', '--data-dir', join(pki.dir, 'data'), '--cert-file', pki.server.cert], {
    ETCDGW_INSECURE_LISTEN_NON_LOOPBACK: 'true',
  })
  // the log and the start-up lines are separate streams: wait for the log lines
  await server.waitForOutput(/"clientUrl":"http:\/\/0\.0\.0\.0:0","msg":"serving plain HTTP on a non-loopback address \(--insecure-listen-non-loopback\)/)
  await server.waitForOutput(/"ignored":\["--cert-file"\],"msg":"scheme is HTTP; ignoring the TLS flags for this URL"/)
  const port = new URL(server.url).port
  const r = await fetch(`http://127.0.0.1:${port}/v3/kv/put`, { method: 'POST', body: PUT })
  t.equal(r.status, 200)
  await stop(server)
  // loopback needs no opt-in, whatever the spelling
  for (const url of ['http://localhost:0', 'http://[::1]:0', 'http://127.0.0.2:0']) {
    const r = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', join(pki.dir, 'data'), '--listen-client-urls', url, '--max-txn-ops', 'x'], { encoding: 'utf8', timeout: 20_000 })
    t.match(r.stderr, /--max-txn-ops: "x"/, `${url} passes the loopback check`)
  }
})
