import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { etcdMissing, startEtcd, startEtcdCluster } from '../helpers/etcd.js'
import { post } from '../helpers/http.js'
import { startGateway } from '../helpers/gateway.js'
import { launch } from '../helpers/managed-server.js'
import { freePort, listensOn } from '../helpers/process.js'
import { createServer } from 'node:http'
import { normalizeBody } from './transcript.js'

/** Running, i.e. exists and is not a zombie (an orphan's zombie may linger if init does not reap). */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const putFoo = (url: string, value: string) =>
  post(url, '/v3/kv/put', JSON.stringify({ key: 'Zm9v', value: Buffer.from(value).toString('base64') }))
const getFoo = async (url: string) => JSON.parse((await post(url, '/v3/kv/range', '{"key":"Zm9v"}')).body)

t.test('normalizeBody hides only cluster_id, member_id and raft_term', async (t) => {
  const body = '{"header":{"cluster_id":"1","member_id":"-2","revision":"3","raft_term":"4"},"x":"\\u003c\\"cluster_id\\":\\"9\\""}'
  t.equal(
    normalizeBody(body),
    '{"header":{"cluster_id":"<cluster_id>","member_id":"<member_id>","revision":"3","raft_term":"<raft_term>"},"x":"\\u003c\\"cluster_id\\":\\"9\\""}',
  )
  t.equal(normalizeBody('"cluster_id":"1" but not JSON'), '"cluster_id":"1" but not JSON')
})

t.test('a stranger answering on our port is not taken for our server', async (t) => {
  const port = await freePort()
  const stranger = createServer((_req, res) => res.end('hi'))
  await new Promise<void>((resolve) => stranger.listen(port, '127.0.0.1', resolve))
  t.teardown(() => stranger.close())
  t.ok(listensOn(process.pid, port), 'listensOn sees our own listener')
  await t.rejects(
    launch({
      what: 'idle',
      command: process.execPath,
      portCount: 1,
      ports: [port],
      args: () => ['-e', 'setInterval(() => {}, 1000)'],
      ready: async () => true,
      startTimeoutMs: 1_000,
    }),
    /not ready after 1000 ms/,
  )
})

t.test('etcd helpers', { skip: etcdMissing() }, async (t) => {
  t.test('startEtcd serves, stop kills the process and removes the data dir', async (t) => {
    const etcd = await startEtcd({ fastElection: true })
    t.ok(isAlive(etcd.pid))
    t.ok(existsSync(etcd.dataDir))
    const res = await putFoo(etcd.url, 'bar')
    t.equal(res.status, 200)
    t.match(JSON.parse(res.body), { header: { revision: '2' } })
    await etcd.stop()
    t.notOk(isAlive(etcd.pid))
    t.notOk(existsSync(etcd.dataDir))
  })

  t.test('restart keeps the data, after a clean stop and after SIGKILL', async (t) => {
    const etcd = await startEtcd({ fastElection: true, teardown: t })
    await putFoo(etcd.url, 'one')
    const firstPid = etcd.pid
    await etcd.restart()
    t.not(etcd.pid, firstPid)
    t.equal((await getFoo(etcd.url)).kvs[0].mod_revision, '2')
    await putFoo(etcd.url, 'two')
    await etcd.kill('SIGKILL')
    t.notOk(isAlive(etcd.pid))
    await etcd.restart()
    t.equal((await getFoo(etcd.url)).kvs[0].mod_revision, '3')
    await etcd.stopGracefully()
    t.notOk(existsSync(etcd.dataDir))
  })

  t.test('extra flags reach etcd', async (t) => {
    const etcd = await startEtcd({ fastElection: true, flags: ['--max-request-bytes', '100'], teardown: t })
    const res = await putFoo(etcd.url, 'x'.repeat(200))
    t.equal(res.status, 400)
    t.match(res.body, 'request is too large')
  })

  t.test('a three-member cluster replicates and survives a member restart', async (t) => {
    const cluster = await startEtcdCluster(3, { teardown: t })
    t.equal(cluster.members.length, 3)
    const list = JSON.parse((await post(cluster.members[0]!.url, '/v3/cluster/member/list', '{}')).body)
    t.equal(list.members.length, 3)
    await putFoo(cluster.members[0]!.url, 'replicated')
    for (const member of cluster.members) {
      t.equal((await getFoo(member.url)).kvs[0].value, Buffer.from('replicated').toString('base64'))
    }
    // Stop a follower: a write in flight while the leader dies may hang for 7 s (spec §6).
    const statuses = await Promise.all(
      cluster.members.map(async (m) => JSON.parse((await post(m.url, '/v3/maintenance/status', '{}')).body)),
    )
    const followerIndex = statuses.findIndex((s) => s.leader !== s.header.member_id)
    const follower = cluster.members[followerIndex]!
    const other = cluster.members.find((m) => m !== follower)!
    await follower.kill('SIGKILL')
    t.equal((await putFoo(other.url, 'while-down')).status, 200)
    await follower.restart()
    t.equal((await getFoo(follower.url)).kvs[0].mod_revision, '3')
    await cluster.stop()
    for (const member of cluster.members) t.notOk(isAlive(member.pid))
  })

  t.test('a test process killed with SIGKILL leaves no etcd and no directory behind', async (t) => {
    const helper = fileURLToPath(new URL('../helpers/etcd.js', import.meta.url))
    const script = `
      const { startEtcd } = await import(${JSON.stringify(helper)})
      const etcd = await startEtcd({ fastElection: true })
      console.log(JSON.stringify({ pid: etcd.pid, dataDir: etcd.dataDir }))
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d: Buffer) => resolve(d.toString()))
      child.once('exit', () => reject(new Error('helper script exited early')))
    })
    const { pid, dataDir } = JSON.parse(line) as { pid: number; dataDir: string }
    t.ok(isAlive(pid), 'etcd runs')
    child.kill('SIGKILL')
    await eventually(() => !isAlive(pid), 'etcd is killed by the watchdog')
    await eventually(() => !existsSync(dataDir), 'the data dir is removed')
    t.pass('cleaned up')
  })
})

t.test('gateway helper: our CLI serves, restarts on its data dir, and stops cleanly', async (t) => {
  const gw = await startGateway({ teardown: t })
  t.ok(isAlive(gw.pid))
  t.match(JSON.parse((await putFoo(gw.url, 'one')).body), { header: { revision: '2' } })
  await gw.restart()
  t.equal((await getFoo(gw.url)).kvs[0].mod_revision, '2')
  await putFoo(gw.url, 'two')
  await gw.kill('SIGKILL')
  await gw.restart()
  t.equal((await getFoo(gw.url)).kvs[0].mod_revision, '3')
  const pid = gw.pid
  await gw.stopGracefully()
  t.notOk(isAlive(pid))
  t.notOk(existsSync(gw.dataDir))
})

t.test('startServe: a test process killed with SIGKILL leaves no etcdgw serve behind', async (t) => {
  const helper = fileURLToPath(new URL('../helpers/serve-process.js', import.meta.url))
  const dataDir = mkdtempSync(join(tmpdir(), 'etcdgw-orphan-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const script = `
    const { startServe } = await import(${JSON.stringify(helper)})
    const s = await startServe({ teardown() {} }, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', ${JSON.stringify(dataDir)}])
    console.log(JSON.stringify({ pid: s.child.pid }))
    setInterval(() => {}, 1000)
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString()))
    child.once('exit', () => reject(new Error('helper script exited early')))
  })
  const { pid } = JSON.parse(line) as { pid: number }
  t.ok(isAlive(pid), 'etcdgw serve runs')
  child.kill('SIGKILL')
  await eventually(() => !isAlive(pid), 'etcdgw serve is killed by the watchdog')
})

t.test('gateway helper passes --max-request-bytes', async (t) => {
  const gw = await startGateway({ maxRequestBytes: 100, teardown: t })
  const res = await putFoo(gw.url, 'x'.repeat(200))
  t.equal(res.status, 400)
  t.match(res.body, 'request is too large')
})
