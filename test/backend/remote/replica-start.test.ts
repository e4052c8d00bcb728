/**
 * When the replica loads: at start when etcd answers with auth disabled; otherwise the backend opens
 * without it, requests go to etcd, and it loads as soon as etcd answers with auth disabled (a cluster
 * not answering at start, or one with auth enabled then disabled).
 */
import t from 'tap'
import type { Backend } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { pauseProcess } from '../../helpers/process.js'
import { AuthSession, ROOT_AND_APP1 } from '../../helpers/auth-client.js'
import { put, range } from '../../helpers/requests.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { replicaAnswers } from '../../helpers/replica-answering.js'

const answering = async (backend: Backend) => (await backend.metrics?.getSingleMetric('etcdgw_replica_answering')?.get())?.values[0]?.value

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('etcd not answering at start: the replica loads once it answers', async (t) => {
    const etcd = await startEtcd({ fastElection: true, teardown: t })
    await gw.gateway(etcd.url, '/v3/kv/put', { key: gw.b64('k'), value: gw.b64('before') })
    const resume = pauseProcess(etcd.pid, t)
    const backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 1_000 })
    t.teardown(() => backend.close())
    t.equal(await answering(backend), 0, 'the backend opens without it')
    resume()
    t.ok(await replicaAnswers(backend), 'it answers once etcd does')
    const written = await backend.kv.put(put({ key: 'k', value: 'after' }))
    const read = await backend.kv.range(range({ key: 'k', serializable: true }))
    t.same([read.kvs[0]?.value.toString(), read.header.revision], ['after', written.header.revision], 'with what etcd holds')
  })

  t.test('auth enabled at start: the replica loads once auth is disabled', async (t) => {
    const etcd = await startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4'], teardown: t })
    const session = new AuthSession(etcd.url)
    await session.run(ROOT_AND_APP1)
    const backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
    t.teardown(() => backend.close())
    t.equal(await answering(backend), 0, 'the backend opens without it')
    await t.rejects(backend.kv.range(range({ key: 'k', serializable: true })), { message: /user name is empty/ }, 'a read without a token goes to etcd, which refuses it')
    t.match(await session.send({ path: '/v3/auth/disable', as: 'root' }), / 200 /, 'auth disabled by another client')
    t.ok(await replicaAnswers(backend), 'it answers once etcdgw has heard')
  })
}
