import { join } from 'node:path'
import t from 'tap'
import { startServe } from '../helpers/serve-process.js'
import { curlPost, nodePost, type ClientTls } from '../helpers/tls-client.js'
import { mtlsArgs, pkiFor, RANGE, stopServe } from '../helpers/tls-serve-fixture.js'

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
    await stopServe(server)
  }
})
