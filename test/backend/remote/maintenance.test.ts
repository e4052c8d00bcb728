/**
 * Maintenance and Cluster through our gateway in remote mode, compared with etcd's own gateway; a
 * snapshot taken through ours is etcd's file: etcdctl restores it and a new etcd serves the data.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../../../src/app.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import { saveSnapshot } from '../../../src/cli/snapshot.js'
import { eventually } from '../../helpers/eventually.js'
import { freePort, guardChild } from '../../helpers/process.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { etcdMissing, startEtcd, waitHealthy, ETCDCTL_BIN as ETCDCTL } from '../../helpers/etcd.js'

const run = promisify(execFile)

/** The JSON's shape: keys in order, values replaced by their JSON type (IDs and sizes differ between servers). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
  return typeof v
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd()
  t.teardown(() => etcd.stop())
  const backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const ours = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.teardown(async () => {
    await app.close()
    await backend.close()
  })
  /**
   * GET /health until it answers 200, at most 20 s: one check (etcd's and ours) has a 1 s budget for a
   * write through raft, which a slow fsync on a loaded machine can miss. The last answer.
   */
  const healthyAnswer = async (url: string) => {
    let answer: [number, string, string | null] = [0, '', null]
    await eventually(async () => {
      const res = await fetch(`${url}/health`)
      answer = [res.status, await res.text(), res.headers.get('content-type')]
      return res.status === 200
    }, 20_000)
    return answer
  }
  const both = async (path: string, body: unknown = {}) => {
    const [a, b] = await Promise.all([gw.gateway(etcd.url, path, body), gw.gateway(ours, path, body)])
    return { etcd: a, ours: b }
  }

  for (let i = 0; i < 40; i++) await gw.gateway(etcd.url, '/v3/kv/put', { key: gw.b64(`key/${i}`), value: gw.b64('v'.repeat(2000 + i)) })
  // etcd commits its backend every 100 ms, and dbSize grows at a commit: wait for the puts' commit, so the two
  // status answers compared below cannot fall on either side of it
  const dbSize = async () => (await gw.gateway(etcd.url, '/v3/maintenance/status', {})).json.dbSize
  for (let last = await dbSize(), i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150))
    const now = await dbSize()
    if (now === last) break
    last = now
  }

  await t.test('status, hash, alarm, member list: the same answers as etcd\'s gateway', async (t) => {
    for (const path of ['/v3/maintenance/status', '/v3/maintenance/hash', '/v3/cluster/member/list', '/v3/maintenance/alarm']) {
      const r = await both(path)
      t.equal(r.ours.status, r.etcd.status, path)
      t.same(r.ours.json, r.etcd.json, path)
    }
    const activate = { action: 'ACTIVATE', memberID: '5', alarm: 'CORRUPT' }
    const r = await both('/v3/maintenance/alarm', activate)
    t.same(r.ours.json, r.etcd.json)
    const put = { key: gw.b64('x'), value: gw.b64('y') }
    const refused = await gw.gateway(ours, '/v3/kv/put', put)
    t.same([refused.status, refused.json.code, refused.json.message], [500, 15, 'etcdserver: corrupt cluster'])
    const health = await Promise.all([etcd.url, ours].map((u) => fetch(`${u}/health`).then(async (res) => [res.status, await res.text()])))
    t.same(health[1], health[0], '/health 503 with an alarm, as etcd')
    t.same((await gw.gateway(ours, '/v3/maintenance/alarm', { ...activate, action: 'DEACTIVATE' })).json, { alarms: [{ memberID: '5', alarm: 'CORRUPT' }] })
    const after = await Promise.all([etcd.url, ours].map(healthyAnswer))
    t.equal(after[0][0], 200, 'etcd healthy once the alarm is gone')
    t.same(after[1], after[0], 'and ours, with the same answer')
    const version = await Promise.all([etcd.url, ours].map((u) => fetch(`${u}/version`).then((res) => res.json())))
    t.same(version[1], { ...(version[0] as object), etcdgw: (version[1] as { etcdgw: string }).etcdgw })
    const defrag = await both('/v3/maintenance/defragment')
    t.same(defrag.ours.json, defrag.etcd.json)
    const status = (await gw.gateway(etcd.url, '/v3/maintenance/status', {})).json
    const self = await both('/v3/maintenance/transfer-leadership', { targetID: status.header.member_id })
    t.same(self.ours.json, self.etcd.json)
    const bad = await both('/v3/maintenance/transfer-leadership', { targetID: '5' })
    t.same([bad.ours.status, bad.ours.json], [bad.etcd.status, bad.etcd.json])
  })

  await t.test('snapshot stream: the same framing as etcd\'s gateway', async (t) => {
    const [a, b] = await Promise.all(
      [etcd.url, ours].map((u) => fetch(`${u}/v3/maintenance/snapshot`, { method: 'POST', body: '{}' }).then(async (r) => [r.headers.get('content-type'), await r.text()] as const)),
    )
    t.equal(b![0], a![0])
    const messages = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l))
    t.same(messages(b![1]).map(shape), messages(a![1]).map(shape))
  })

  await t.test('a snapshot saved through our gateway is restored by etcdctl and served by a new etcd', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-remote-snap-'))
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
    const file = join(tmp, 'etcd.db')
    await saveSnapshot(ours, file)
    const viaEtcdctl = join(tmp, 'etcdctl.db')
    await run(ETCDCTL, ['--endpoints', etcd.url, 'snapshot', 'save', viaEtcdctl])
    t.equal(readFileSync(file).length, readFileSync(viaEtcdctl).length, 'the same size as etcdctl\'s own snapshot')
    const status = await run(ETCDCTL, ['snapshot', 'status', file, '-w', 'json'])
    t.match(JSON.parse(status.stdout), { revision: 41 })

    const [client, peer] = await Promise.all([freePort(), freePort()])
    const dataDir = join(tmp, 'restored')
    const peerUrl = `http://127.0.0.1:${peer}`
    await run(ETCDCTL, ['snapshot', 'restore', file, '--data-dir', dataDir, '--name', 'r', '--initial-cluster', `r=${peerUrl}`, '--initial-advertise-peer-urls', peerUrl])
    const url = `http://127.0.0.1:${client}`
    const { spawn } = await import('node:child_process')
    const child = spawn('/usr/bin/etcd', ['--name', 'r', '--data-dir', dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `r=${peerUrl}`], { stdio: 'ignore' })
    guardChild(child)
    t.teardown(() => {
      child.kill('SIGKILL')
    })
    await waitHealthy(url)
    const all = { key: 'AA==', range_end: 'AA==' }
    const [before, after] = await Promise.all([gw.gateway(etcd.url, '/v3/kv/range', all), gw.gateway(url, '/v3/kv/range', all)])
    t.equal(after.json.count, '40')
    t.same(after.json.kvs, before.json.kvs, 'every key, value and revision')
  })
}
