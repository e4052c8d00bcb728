import { mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS, DEFAULT_KEY_TYPE, filesOf, initPki, issueClientCert } from '../../../pki/index.js'
import { startServe } from '../../helpers/serve-process.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'

/*
 * Remote mode follows its TLS files: etcd trusts client certificates from CA B only, the gateway starts with a
 * client certificate from CA A (etcd refuses it), then its --cert/--key files are replaced by a pair from CA B.
 * Without a restart, new connections to etcd use the new pair and requests go through.
 */

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('a replaced client certificate for etcd is used without a restart', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'etcdgw-remote-tls-reload-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const pki = (sub: string) =>
      initPki({
        dir: join(dir, sub),
        member: { nodeName: 'm0', advertiseAddress: '127.0.0.1' },
        keyType: DEFAULT_KEY_TYPE,
        certValidityMs: DEFAULT_CERT_VALIDITY_MS,
        caValidityMs: DEFAULT_CA_VALIDITY_MS,
        now: new Date(),
      })
    await Promise.all([pki('a'), pki('b')])
    const issue = (sub: string, outDir: string) =>
      issueClientCert('gateway', [], {
        dir: join(dir, sub),
        outDir,
        keyType: DEFAULT_KEY_TYPE,
        validityMs: DEFAULT_CERT_VALIDITY_MS,
        now: new Date(),
      })
    await issue('a', join(dir, 'gw'))
    await issue('b', join(dir, 'next'))
    const server = filesOf(join(dir, 'a'), 'etcd-server')
    // etcd's server certificate is from A; the client certificates it accepts from B
    const etcd = await startEtcd({ tls: { ca: filesOf(join(dir, 'b'), 'etcd-ca').cert, cert: server.cert, key: server.key } })
    t.teardown(() => etcd.stop())

    const gw = await startServe(t, [
      '--listen-client-urls', 'http://127.0.0.1:0',
      '--endpoints', etcd.url,
      '--cacert', filesOf(join(dir, 'a'), 'etcd-ca').cert,
      '--cert', join(dir, 'gw', 'gateway.crt'),
      '--key', join(dir, 'gw', 'gateway.key'),
      '--log-level', 'info',
    ])
    const put = () =>
      fetch(`${gw.url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: 'dGxz', value: 'b2s=' }) }).then((r) => r.status)
    t.equal(await put(), 503, 'etcd refuses the CA A client certificate')

    // replace the pair the way renewals do: key first, then certificate, each by rename
    await rename(join(dir, 'next', 'gateway.key'), join(dir, 'gw', 'gateway.key'))
    await rename(join(dir, 'next', 'gateway.crt'), join(dir, 'gw', 'gateway.crt'))
    await gw.waitForOutput(/TLS files for etcd reloaded/)
    t.equal(await put(), 200, 'the CA B client certificate is used for the next connection')
    const read = await fetch(`${gw.url}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: 'dGxz' }) }).then((r) => r.json())
    t.match(read, { kvs: [{ key: 'dGxz', value: 'b2s=' }] })
  })
}
