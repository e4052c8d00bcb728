import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { clientSubject, filesAt, filesOf, issueCert, readKeyPair, writeKeyPair } from '../../pki/index.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodeGet, nodePost } from '../helpers/tls-client.js'
import { pkiFor, PUT, stopServe } from '../helpers/tls-serve-fixture.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('remote mode: HTTPS in front of etcd with mTLS; the client certificate for etcd in the metrics and warned about', async (t) => {
    const pki = await pkiFor(t)
    const etcd = await startEtcd({ tls: { ca: pki.ca, cert: pki.server.cert, key: pki.server.key } })
    t.teardown(() => etcd.stop())
    const ca = await readKeyPair(filesOf(pki.dir, 'etcd-ca'))
    const toEtcd = filesAt(pki.dir, 'clients/etcdgw')
    await writeKeyPair(toEtcd, await issueCert(clientSubject('etcdgw'), ca, { keyType: 'RSA-2048', validityMs: 10 * 86_400_000, now: new Date() }))

    const server = await startServe(t, [
      '--listen-client-urls', 'https://127.0.0.1:0', '--cert-file', pki.server.cert, '--key-file', pki.server.key,
      '--endpoints', etcd.url, '--cacert', pki.ca, '--cert', toEtcd.cert, '--key', toEtcd.key,
    ])
    const tls = { ca: pki.ca }
    t.ok(await eventually(async () => (await nodePost(`${server.url}/v3/kv/put`, PUT, tls).catch(() => undefined))?.status === 200), 'a put goes through to etcd')
    await server.waitForOutput(/"msg":"client certificate [^ ]*etcdgw\.crt \(CN=etcdgw, serial [0-9A-F]+\) expires in 9 days/)
    const metrics = (await nodeGet(`${server.url}/metrics`, tls)).body
    const cert = new X509Certificate(readFileSync(toEtcd.cert))
    const line = `x509_cert_not_after{filename="etcdgw.crt",filepath="${toEtcd.cert}",serial_number="${BigInt(`0x${cert.serialNumber}`)}",issuer_CN="etcd-ca",subject_CN="etcdgw"}`
    t.match(metrics, `${line} ${Date.parse(cert.validTo) / 1000}\n`)
    t.match(metrics, `x509_cert_not_after{filename="server.crt",filepath="${join(pki.dir, 'etcd/server.crt')}"`)
    await stopServe(server)
  })
}
