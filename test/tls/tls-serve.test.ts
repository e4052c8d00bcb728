import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import t from 'tap'
import { filesOf, writeFileAtomic } from '../../pki/index.js'
import { MAIN, startServe } from '../helpers/serve-process.js'
import { curlPost, nodePost, run, sameSerial, type ClientTls } from '../helpers/tls-client.js'
import { pkiFor, PUT, RANGE, serialOfFile, stopServe } from '../helpers/tls-serve-fixture.js'

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
  await stopServe(server)
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
  await stopServe(server)
  // loopback needs no opt-in, whatever the spelling
  for (const url of ['http://localhost:0', 'http://[::1]:0', 'http://127.0.0.2:0']) {
    const r = spawnSync(process.execPath, [MAIN, 'serve', '--data-dir', join(pki.dir, 'data'), '--listen-client-urls', url, '--max-txn-ops', 'x'], { encoding: 'utf8', timeout: 20_000 })
    t.match(r.stderr, /--max-txn-ops: "x"/, `${url} passes the loopback check`)
  }
})
