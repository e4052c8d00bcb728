/**
 * The client commands (`snapshot save`, `endpoint health|status`, `member list`) against an HTTPS gateway
 * that requires client certificates: etcdctl's --cacert/--cert/--key, and the same from ETCDCTL_* variables.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { MAIN, startServe } from '../helpers/serve-process.js'
import { mtlsArgs, pkiFor, PUT } from '../helpers/tls-serve-fixture.js'
import { curlPost } from '../helpers/tls-client.js'

interface Result {
  code: number
  stdout: string
  stderr: string
}

function etcdgw(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr })
    })
  })
}

t.test('client commands over mTLS: flags and ETCDCTL_* variables', async (t) => {
  const pki = await pkiFor(t)
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-client-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const server = await startServe(t, mtlsArgs(pki, join(dir, 'data')))
  t.match(server.url, /^https:/)
  t.equal((await curlPost(`${server.url}/v3/kv/put`, PUT, { ca: pki.ca, client: pki.client })).exitCode, 0)

  const flags = ['--endpoints', server.url, '--cacert', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key]

  const health = await etcdgw(['endpoint', 'health', ...flags])
  t.equal(health.code, 0, health.stderr)
  t.match(health.stdout, `${server.url} is healthy: successfully committed proposal`)

  const status = await etcdgw(['endpoint', 'status', '-w', 'json', ...flags])
  t.equal(status.code, 0, status.stderr)
  const parsed = JSON.parse(status.stdout) as Array<{ Endpoint: string; Status: { header: { revision: number } } }>
  t.equal(parsed[0]!.Endpoint, server.url)
  t.equal(parsed[0]!.Status.header.revision, 2, 'the put made through curl is seen')

  const members = await etcdgw(['member', 'list', '-w', 'table', ...flags])
  t.equal(members.code, 0, members.stderr)
  t.match(members.stdout, /\| started \|/)

  const file = join(dir, 'snap.db')
  const saved = await etcdgw(['snapshot', 'save', file, ...flags])
  t.equal(saved.code, 0, saved.stderr)
  t.ok(statSync(file).size > 0)
  const snapStatus = await etcdgw(['snapshot', 'status', file, '-w', 'json'])
  t.equal((JSON.parse(snapStatus.stdout) as { revision: number }).revision, 2)

  const env = { ETCDCTL_ENDPOINTS: server.url, ETCDCTL_CACERT: pki.ca, ETCDCTL_CERT: pki.client.cert, ETCDCTL_KEY: pki.client.key }
  const fromEnv = await etcdgw(['endpoint', 'health'], env)
  t.equal(fromEnv.code, 0, fromEnv.stderr)
  t.match(fromEnv.stdout, 'is healthy')
  const envSnap = join(dir, 'env.db')
  t.equal((await etcdgw(['snapshot', 'save', envSnap], env)).code, 0)

  // the server demands a client certificate: without one the commands fail, naming the endpoint
  const noCert = await etcdgw(['endpoint', 'health', '--endpoints', server.url, '--cacert', pki.ca])
  t.equal(noCert.code, 1)
  t.match(noCert.stderr, `${server.url} is unhealthy`)
  // a CA that did not sign the server certificate: refused by the client's verification
  const wrongCa = await etcdgw(['member', 'list', '--endpoints', server.url, '--cacert', pki.otherCaClient.cert, '--cert', pki.client.cert, '--key', pki.client.key])
  t.equal(wrongCa.code, 1)
  t.match(wrongCa.stderr, /Error: .*(CERT|certificate|SIGNATURE)/i)

  const halfPair = await etcdgw(['endpoint', 'status', '--endpoints', server.url, '--cacert', pki.ca, '--cert', pki.client.cert])
  t.equal(halfPair.code, 1)
  t.match(halfPair.stderr, 'Error: --cert and --key must be given together')
})
