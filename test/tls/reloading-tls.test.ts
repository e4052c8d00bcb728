import { X509Certificate } from 'node:crypto'
import { mkdir, readFile, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { ReloadingTls, type TlsLog } from '../../src/tls/reloading-tls.js'
import { DEFAULT_CERT_VALIDITY_MS, renewCert } from '../../pki/index.js'
import { makeTestPki, removeTestPki } from '../helpers/tls-certs.js'
import { eventually } from '../helpers/eventually.js'
import { nodeGet, sameSerial, servedSerial } from '../helpers/tls-client.js'

t.test('files behind symlinks into another directory: fs.watch sees nothing there, the periodic check reloads them', async (t) => {
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  // a Kubernetes-style mount: the watched directory holds only links to the real files
  const mount = join(pki.dir, 'mount')
  await mkdir(mount)
  await symlink(pki.server.cert, join(mount, 'tls.crt'))
  await symlink(pki.server.key, join(mount, 'tls.key'))
  await symlink(pki.ca, join(mount, 'ca.crt'))
  const tls = await ReloadingTls.open({ certFile: join(mount, 'tls.crt'), keyFile: join(mount, 'tls.key'), trustedCaFile: join(mount, 'ca.crt') })
  const backend = await openEmbeddedBackend({ dataDir: join(pki.dir, 'data'), name: 'default', maxTxnOps: 128 })
  const app = buildApp({ backend, maxRequestBytes: 1 << 20, https: tls.serverOptions() })
  tls.follow(app.server as never)
  const messages: string[] = []
  const log: TlsLog = { info: (_o, msg) => messages.push(msg), warn: (_o, msg) => messages.push(msg) }
  tls.watch(log, { pollIntervalMs: 300 })
  t.teardown(async () => {
    await tls.close()
    await app.close()
    await backend.close()
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `https://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const client = { ca: pki.ca, client: pki.client }
  t.ok(sameSerial(await servedSerial(url, client), new X509Certificate(await readFile(pki.server.cert)).serialNumber))

  await renewCert('etcd-server', { dir: pki.dir, now: new Date(), validityMs: DEFAULT_CERT_VALIDITY_MS })
  const renewed = new X509Certificate(await readFile(pki.server.cert))
  t.ok(await eventually(async () => sameSerial(await servedSerial(url, client), renewed.serialNumber), 5_000), 'the renewed certificate is served')
  t.same(messages, ['TLS files reloaded; new connections use them'])

  const metrics = await nodeGet(`${url}/metrics`, client)
  t.match(metrics.body, `x509_cert_not_after{filename="tls.crt",filepath="${join(mount, 'tls.crt')}",serial_number="${BigInt(`0x${renewed.serialNumber}`)}",issuer_CN="etcd-ca",subject_CN="node-1"}`)

  // the link itself removed: a change that does not load, logged once, the previous files stay
  await rm(join(mount, 'tls.key'))
  t.ok(await eventually(async () => messages.length === 2, 5_000))
  t.equal(messages[1], 'TLS files changed but cannot be used; still serving the previous ones')
  t.ok(sameSerial(await servedSerial(url, client), renewed.serialNumber))
  await new Promise((r) => setTimeout(r, 700))
  t.equal(messages.length, 2, 'an unchanged broken state is not logged again at every check')
})
