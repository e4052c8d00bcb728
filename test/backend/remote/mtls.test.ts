import { copyFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS, DEFAULT_KEY_TYPE, filesOf, initPki } from '../../../pki/index.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { EtcdError, GrpcCode } from '../../../src/errors.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { put, range } from '../../helpers/requests.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('mTLS to an etcd started with --client-cert-auth, certificates from the pki module', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'etcdgw-remote-mtls-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    await initPki({
      dir,
      member: { nodeName: 'm0', advertiseAddress: '127.0.0.1' },
      keyType: DEFAULT_KEY_TYPE,
      certValidityMs: DEFAULT_CERT_VALIDITY_MS,
      caValidityMs: DEFAULT_CA_VALIDITY_MS,
      now: new Date(),
    })
    const ca = filesOf(dir, 'etcd-ca').cert
    const server = filesOf(dir, 'etcd-server')
    const client = filesOf(dir, 'apiserver-etcd-client')
    const etcd = await startEtcd({ tls: { ca, cert: server.cert, key: server.key } })
    t.teardown(() => etcd.stop())
    t.match(etcd.url, /^https:/)

    // the client files in use, so the test can replace them: apiserver-etcd-client, later healthcheck-client
    const inUse = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') }
    // synchronous, so that nothing else runs between a request and the reload after it
    const useClient = (files: { cert: string; key: string }) => {
      copyFileSync(files.key, inUse.key)
      copyFileSync(files.cert, inUse.cert)
    }
    useClient(client)
    const backend = await openRemoteBackend({ endpoints: [etcd.url], cacert: ca, cert: inUse.cert, key: inUse.key, requestTimeoutMs: 5_000 })
    t.teardown(() => backend.close())
    const written = await backend.kv.put(put({ key: 'tls', value: 'yes' }))
    const read = await backend.kv.range(range({ key: 'tls' }))
    t.same(read.kvs.map((kv) => [kv.key.toString(), kv.value.toString(), kv.modRevision]), [['tls', 'yes', written.header.revision]])

    const anonymous = await openRemoteBackend({ endpoints: [etcd.url], cacert: ca, requestTimeoutMs: 1_000 })
    t.teardown(() => anonymous.close())
    const refused = await anonymous.kv.range(range({ key: 'tls' })).then(
      () => undefined,
      (err: unknown) => err,
    )
    t.ok(refused instanceof EtcdError && refused.grpcCode === GrpcCode.Unavailable, 'without a client certificate etcd refuses the connection (503)')

    // A reload of changed files gives every member a new connection; requests still waiting for the one it
    // replaces (here: its TLS handshake, begun by the first request after the previous reload) go to the new one.
    const pairs = [filesOf(dir, 'etcd-healthcheck-client'), client]
    t.notOk(backend.reloadTls(), 'files unchanged: connections kept')
    for (let i = 0; i < 4; i++) {
      useClient(pairs[0]!)
      t.ok(backend.reloadTls(), 'a new client certificate: new connections')
      const writes = Promise.all([1, 2, 3].map((n) => backend.kv.put(put({ key: `reload/${i}/${n}`, value: 'x' }))))
      const read = backend.kv.range(range({ key: 'tls' }))
      useClient(pairs[1]!)
      t.ok(backend.reloadTls(), 'replaced again while the new connection is being made')
      await t.resolves(writes, `writes waiting for a connection during reload ${i} are not lost`)
      await t.resolves(read, `a read waiting for a connection during reload ${i} is answered`)
    }
  })
}
