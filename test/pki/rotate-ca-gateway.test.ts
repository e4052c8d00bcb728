import { X509Certificate } from 'node:crypto'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { startServe } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { certsCli } from './cli-runner.js'
import { etcdAvailable, EtcdCluster, type RunningMember } from './etcd-cluster.js'

/*
 * `certs rotate-ca` through every stage, from an RSA-2048 CA and leaves to ECDSA-P256 ones, on a running 3-member etcd cluster (peer TLS, client mTLS) with etcdgw in
 * front of it (remote mode, HTTPS with client certificates, all from the same PKI), under continuous traffic and an
 * open WSS watch. etcdgw is never restarted; etcd is restarted (rolling) only where it must be. What etcd 3.4.23
 * needs, found by running it and asserted below:
 * - after stage 1 (trust-both), before stage 2: a restart. etcd reads --trusted-ca-file and --peer-trusted-ca-file
 *   only at start, and rejects every new-CA certificate until then, so stage 2's peer certificates and client
 *   certificates (etcdgw's apiserver-etcd-client) would be refused.
 * - after stage 2 (reissued): none. etcd reads its server and peer certificates on every new handshake. (A
 *   handshake that falls between the renewal's key and certificate renames finds a pair that does not match and
 *   fails with "tls: private key does not match public key", or "tls: private key type does not match public key
 *   type" when the key type changes; the client connects again.)
 * - after stage 3 (back to idle, new CA only): none for traffic, but etcd keeps accepting old-CA certificates until
 *   it restarts; the restart is what ends the old CA's trust.
 * etcdgw follows its files instead: it trusts the new CA, serves the new certificate, presents the new client
 * certificate to etcd and rejects old-CA clients as soon as the files change.
 */
const hasEtcd = await etcdAvailable()
if (!hasEtcd && process.env.CI === 'true') t.fail('etcd is not installed (apt-get install etcd-server etcd-client)')
t.test('certs rotate-ca from an RSA CA to an ECDSA CA on a running 3-member etcd cluster behind etcdgw, under traffic', { skip: hasEtcd ? false : 'etcd is not installed; CI=true makes this a failure' }, rotation)

const PACE_MS = 10

interface Material {
  ca: Buffer
  cert: Buffer
  key: Buffer
}

interface Failure {
  op: string
  key: string
  /** what the rotation was doing (a failure during an etcd restart tells a different story from one after a reload) */
  during: string
  what: string
}

async function rotation(t: Test): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'etcdgw-rotate-gw-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const [d1, d2, d3] = ['n1', 'n2', 'n3'].map((n) => join(root, n)) as [string, string, string]
  const cli = async (...args: string[]) => {
    const r = await certsCli(...args)
    if (r.code !== 0) throw new Error(`etcdgw certs ${args.join(' ')} exited with ${r.code}: ${r.stderr}`)
    return r.stdout
  }
  await cli('init', '--dir', d1, '--node-name', 'n1', '--advertise-address', '127.0.0.1')
  await cli('issue', 'member', '--dir', d1, '--out-dir', d2, '--node-name', 'n2', '--advertise-address', '127.0.0.1')
  await cli('issue', 'member', '--dir', d1, '--out-dir', d3, '--node-name', 'n3', '--advertise-address', '127.0.0.1')
  await cli('issue', 'client', '--dir', d1, '--user', 'old-client', '--out-dir', join(root, 'old'))
  const caFile = join(d1, 'etcd/ca.crt')
  const fileSet = (dir: string, base: string) => ({ ca: caFile, cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) })
  const load = async (files: { ca: string; cert: string; key: string }): Promise<Material> => ({
    ca: await readFile(files.ca),
    cert: await readFile(files.cert),
    key: await readFile(files.key),
  })

  const cluster = await EtcdCluster.start([d1, d2, d3].map((pkiDir, i) => ({ name: `n${i + 1}`, pkiDir })))
  t.teardown(() => cluster.stop())

  // etcdgw on node 1 in place of kube-apiserver's etcd client: it presents apiserver-etcd-client to etcd and serves
  // HTTPS with node 1's server certificate, trusting node 1's etcd/ca.crt for both directions.
  const gw = await startServe(t, [
    '--endpoints', cluster.endpoints,
    '--cacert', caFile,
    '--cert', join(d1, 'apiserver-etcd-client.crt'),
    '--key', join(d1, 'apiserver-etcd-client.key'),
    '--listen-client-urls', 'https://127.0.0.1:0',
    '--cert-file', join(d1, 'etcd/server.crt'),
    '--key-file', join(d1, 'etcd/server.key'),
    '--client-cert-auth', '--trusted-ca-file', caFile,
    '--log-level', 'info',
  ])
  const gwPort = Number(new URL(gw.url).port)

  // the traffic client: healthcheck-client of node 1, files re-read after each stage as a real client would
  const clientFiles = fileSet(d1, 'etcd/healthcheck-client')
  let client = await load(clientFiles)
  const probePorts = new Set<number>()

  const watch = await openWatch(`${gw.url.replace(/^https/, 'wss')}/v3/watch`, client)
  t.teardown(() => watch.socket.terminate())

  const failures: Failure[] = []
  let during = 'start'
  const acked = new Map<string, number>()
  /** which member answered each acknowledged put, and when it was sent */
  const answeredBy: { started: number; member: string }[] = []
  let stopTraffic = false
  const worker = async (id: number) => {
    for (let i = 0; !stopTraffic; i++) {
      const key = `rot/${id}/${i}`
      const started = Date.now()
      const put = await post(`${gw.url}/v3/kv/put`, JSON.stringify({ key: b64(key), value: b64(String(i)) }), client)
      if (put.status !== 200) {
        failures.push({ op: 'put', key, during, what: `${put.status} ${put.body}` })
        continue
      }
      const { header } = JSON.parse(put.body) as { header: { revision: string; member_id: string } }
      acked.set(key, Number(header.revision))
      answeredBy.push({ started, member: header.member_id })
      const get = await post(`${gw.url}/v3/kv/range`, JSON.stringify({ key: b64(key) }), client)
      const value = get.status === 200 ? (JSON.parse(get.body) as { kvs?: { value: string }[] }).kvs?.[0]?.value : undefined
      if (value !== b64(String(i))) failures.push({ op: 'range', key, during, what: `${get.status} ${get.body}` })
      // a put and a read every PACE_MS a worker: the traffic never stops, and its handshakes leave CPU for the rotation
      await new Promise((r) => setTimeout(r, PACE_MS))
    }
  }
  // every request on a new connection, so every handshake shows the files in use at that moment
  const traffic = Promise.all([worker(1), worker(2)])
  const progress = async (what: string) => {
    const target = acked.size + 20
    t.ok(await eventually(async () => acked.size >= target, 30_000), `traffic flows ${what}`)
  }
  await progress('before the rotation')

  // A rolling restart as an operator does it: one member at a time, each healthy again before the next. A leader
  // first hands over its leadership, and etcdgw's writes (sent to the leader) follow, so that no write is in flight
  // on the member when it stops: etcd with TLS stops its gRPC server abruptly (grpc.Server.Stop in
  // embed/etcd.go stopServers), and a write cut off that way has an unknown outcome, which etcdgw rightly does not
  // repeat. Reads cut off that way are asked again elsewhere.
  const restartRolling = async (stage: string) => {
    for (const [i, member] of cluster.members.entries()) {
      during = `${stage}: restarting ${member.name}`
      const { ids, leader } = await cluster.memberIds()
      if (ids[i] === leader) {
        const since = Date.now()
        await cluster.moveLeader(ids[(i + 1) % ids.length]!)
        const movedOn = () => {
          const after = answeredBy.filter((a) => a.started > since).slice(-3)
          return after.length === 3 && after.every((a) => a.member !== leader)
        }
        t.ok(await eventually(async () => movedOn(), 15_000), `etcdgw's writes left ${member.name} with its leadership`)
      }
      await cluster.restartMember(member)
      await progress(`after restarting ${member.name}`)
    }
  }
  const shareTrust = () => Promise.all([d2, d3].map((d) => copyFile(caFile, join(d, 'etcd/ca.crt'))))
  const probeEach = (members: RunningMember[], port: (m: RunningMember) => number, tls: Partial<Material>) =>
    Promise.all(members.map((m) => probe(port(m), tls, probePorts)))
  /** whether each member's client and peer ports accept a client with these files */
  const etcdAccepts = async (tls: Material) => {
    const probes = [...(await probeEach(cluster.members, (m) => m.clientPort, tls)), ...(await probeEach(cluster.members, (m) => m.peerPort, tls))]
    return probes.map((p) => p.accepted)
  }
  const remoteReloads = () => gw.output().match(/TLS files for etcd reloaded/g)?.length ?? 0

  // Stage 1: new CA, ca.crt = new ⊕ old.
  during = 'stage 1'
  t.match(await cli('rotate-ca', '--dir', d1, '--key-type', 'ECDSA-P256'), /idle -> trust-both/, 'stage 1')
  await shareTrust()
  client = await load(clientFiles)
  await cli('issue', 'client', '--dir', d1, '--user', 'new-client', '--out-dir', join(root, 'new'))
  const newClient = await load(fileSet(join(root, 'new'), 'new-client'))
  const oldClient = await load(fileSet(join(root, 'old'), 'old-client'))
  t.ok(await eventually(async () => (await probe(gwPort, newClient, probePorts)).accepted), 'etcdgw accepts a new-CA client at once (it reloads its CA file)')
  t.ok(await eventually(async () => remoteReloads() >= 1), 'etcdgw re-read its CA file for etcd')
  // etcd does not: until it restarts, its client and peer ports reject certificates from the new CA
  t.same(await etcdAccepts(newClient), Array(6).fill(false), 'etcd rejects new-CA certificates until restarted')
  await restartRolling('stage 1')
  t.same(await etcdAccepts(newClient), Array(6).fill(true), 'after a rolling restart every member accepts new-CA certificates')

  // Stage 2: every leaf re-issued from the new CA; the other members get theirs with `certs issue member`.
  during = 'stage 2'
  t.match(await cli('rotate-ca', '--dir', d1, '--leaf-key-type', 'ECDSA-P256'), /trust-both -> reissued/, 'stage 2')
  await cli('issue', 'member', '--dir', d1, '--out-dir', d2, '--node-name', 'n2', '--advertise-address', '127.0.0.1', '--key-type', 'ECDSA-P256')
  await cli('issue', 'member', '--dir', d1, '--out-dir', d3, '--node-name', 'n3', '--advertise-address', '127.0.0.1', '--key-type', 'ECDSA-P256')
  const newCa = new X509Certificate(await readFile(caFile))
  t.equal(newCa.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1', 'the new CA has an ECDSA P-256 key')
  for (const file of [join(d1, 'etcd/server.crt'), join(d1, 'etcd/peer.crt'), join(d1, 'apiserver-etcd-client.crt'), join(d3, 'etcd/peer.crt')]) {
    t.equal(new X509Certificate(await readFile(file)).publicKey.asymmetricKeyType, 'ec', `${file} re-issued with an ECDSA key`)
  }
  const fromNewCa = (cert: X509Certificate | undefined) => cert !== undefined && cert.checkIssued(newCa) && cert.verify(newCa.publicKey)
  const serverOnDisk = new X509Certificate(await readFile(join(d1, 'etcd/server.crt')))
  t.ok(await eventually(async () => (await probe(gwPort, client, probePorts)).peer?.serialNumber === serverOnDisk.serialNumber), 'etcdgw serves the re-issued server certificate')
  const gwClientOnDisk = new X509Certificate(await readFile(join(d1, 'apiserver-etcd-client.crt')))
  t.ok(await eventually(async () => (await metrics(gw.url, client)).includes(`filepath="${join(d1, 'apiserver-etcd-client.crt')}",serial_number="${BigInt(`0x${gwClientOnDisk.serialNumber}`)}",issuer_CN="etcd-ca",subject_CN="kube-apiserver-etcd-client"`)), 'etcdgw uses the re-issued client certificate for etcd')
  client = await load(clientFiles)
  // no restart: etcd reads its server and peer certificates on every new handshake
  t.ok((await probeEach(cluster.members, (m) => m.clientPort, client)).every((p) => fromNewCa(p.peer)), 'every member serves a new-CA server certificate without restart')
  t.ok((await probeEach(cluster.members, (m) => m.peerPort, client)).every((p) => fromNewCa(p.peer)), 'every member serves a new-CA peer certificate without restart')
  await progress('after stage 2')

  // Stage 3: ca.crt = new CA only.
  during = 'stage 3'
  t.match(await cli('rotate-ca', '--dir', d1), /reissued -> idle/, 'stage 3')
  t.match(await cli('rotate-ca', 'status', '--dir', d1), /^stage: idle$/m)
  await shareTrust()
  client = await load(clientFiles)
  t.ok(await eventually(async () => !(await probe(gwPort, oldClient, probePorts)).accepted), 'etcdgw rejects old-CA clients at once')
  // etcd keeps trusting the old CA until it restarts: only the restart completes the rotation
  t.same(await etcdAccepts(oldClient), Array(6).fill(true), 'etcd still accepts old-CA certificates before its restart')
  await restartRolling('stage 3')
  t.same(await etcdAccepts(oldClient), Array(6).fill(false), 'after a rolling restart no member accepts old-CA certificates')
  during = 'after the rotation'
  await progress('after the rotation')

  stopTraffic = true
  await traffic
  const gwServed = await probe(gwPort, client, probePorts)
  t.ok(fromNewCa(gwServed.peer) && gwServed.peer?.serialNumber === serverOnDisk.serialNumber, 'etcdgw serves the new-CA server certificate')
  const etcdServed = await probeEach(cluster.members, (m) => m.clientPort, client)
  t.ok(etcdServed.every((p) => p.accepted && fromNewCa(p.peer)), 'every member serves a new-CA certificate and accepts the new-CA client')
  t.equal(watch.socket.readyState, WebSocket.OPEN, 'the watch opened before the rotation is still open')

  // every acknowledged put reaches the watch exactly once, in revision order
  const lastRev = Math.max(...acked.values())
  t.ok(await eventually(async () => (watch.events.at(-1)?.rev ?? 0) >= lastRev, 15_000), 'the watch caught up')
  const revs = watch.events.map((e) => e.rev)
  t.ok(revs.every((rev, i) => i === 0 || rev > revs[i - 1]!), 'watch revisions strictly increase: no duplicate')
  const seen = new Map(watch.events.map((e) => [e.key, e.rev]))
  const missing = [...acked].filter(([key, rev]) => seen.get(key) !== rev)
  t.same(missing, [], `the watch saw all ${acked.size} acknowledged puts`)
  const failedKeys = new Set(failures.map((f) => f.key))
  t.same(watch.events.filter((e) => !acked.has(e.key) && !failedKeys.has(e.key)), [], 'no event for a put never made')

  // No TLS handshake with etcd failed over a certificate but the probes' own: neither etcdgw's (stale trust, stale
  // client certificate) nor the members' among themselves (the restarts came where needed).
  const rejections: string[] = []
  for (const member of cluster.members) {
    for (const line of (await cluster.log(member)).split('\n')) {
      const port = certificateRejection(line)
      if (port !== undefined && !probePorts.has(port)) rejections.push(`${member.name}: ${line}`)
    }
  }
  t.same(rejections, [], 'etcd rejected no handshake over certificates but the probes\'')

  // A write in flight on a member when it stops is cut off (etcd with TLS stops its gRPC server abruptly) and its
  // outcome is unknown, so etcdgw answers 503 rather than repeat it. The leadership handover keeps writes off the
  // member, but under load etcdgw may still send one there (the leader missed a health probe, a retry); such a
  // write, at most one per worker and restart, is the only failure allowed. Reads never fail: they are asked again.
  // etcd itself may answer a write "request timed out" (its outcome unknown too) when a member that restarted
  // calls an election on a loaded machine; etcdgw passes that answer on as etcd's gateway does.
  const cutOff = (f: Failure) => f.op === 'put' && f.what.startsWith('503 ') && (f.during.includes('restarting') || f.what.includes('"etcdserver: request timed out"'))
  t.same(failures.filter((f) => !cutOff(f)), [], `no failed request among ${acked.size} puts and their reads but writes cut off by a restart or timed out by etcd`)
  const perWorkerAndRestart = new Map<string, number>()
  for (const f of failures) {
    const slot = `${f.during} ${f.key.split('/')[1]}`
    perWorkerAndRestart.set(slot, (perWorkerAndRestart.get(slot) ?? 0) + 1)
  }
  t.ok([...perWorkerAndRestart.values()].every((n) => n <= 1), 'at most one write cut off per worker and stage', { failures })
  if (failures.length > 0) t.comment(`writes cut off: ${failures.map((f) => `${f.key} (${f.during}): ${f.what}`).join('; ')}`)
}

/** The client port of a handshake etcd logged as failed over a certificate or trust, on either side. */
function certificateRejection(line: string): number | undefined {
  const m = /rejected connection from "127\.0\.0\.1:(\d+)" \(error "(.*)", ServerName "(.*)"\)$/.exec(line)
  if (!m) return undefined
  const [, port, error, serverName] = m as unknown as [string, string, string, string]
  // etcd's own half-renewed pair is no client's doing: Go's "private key does not match public key", or "private
  // key type does not match public key type" when the renewal changes the key's type (RSA to ECDSA here); nor
  // are connections closed under a stopping member ("use of closed network connection")
  const tlsFailure = /^((local|remote) error: )?tls: /.test(error) && !/^tls: private key (type )?does not match/.test(error)
  // grpc-js (etcdgw's connections: the only client sending the IP as server name) hangs up on a certificate it
  // does not trust, which etcd logs as EOF
  const gatewayHungUp = error === 'EOF' && serverName === '127.0.0.1'
  return tlsFailure || gatewayHungUp ? Number(port) : undefined
}

const b64 = (s: string) => Buffer.from(s).toString('base64')

function post(url: string, body: string, tls: Material): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', ...tls, agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }))
      res.on('error', (err) => resolve({ status: 0, body: err.message }))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', (err) => resolve({ status: 0, body: err.message }))
    req.end(body)
  })
}

async function metrics(url: string, tls: Material): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${url}/metrics`, { ...tls, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve(Buffer.concat(chunks).toString()))
    })
    req.on('error', () => resolve(''))
    req.end()
  })
}

interface ProbeResult {
  accepted: boolean
  /** the certificate the server presented */
  peer?: X509Certificate
}

/**
 * One handshake and one GET /version: accepted when it answers 200. The local port goes into `ports`, so
 * etcd's log line about a rejected probe can be told from a rejected gateway connection.
 */
function probe(port: number, tls: Partial<Material>, ports: Set<number>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ...tls })
    let peer: X509Certificate | undefined
    let answer = ''
    socket.once('connect', () => ports.add(socket.localPort!))
    socket.once('secureConnect', () => {
      peer = new X509Certificate(socket.getPeerCertificate().raw)
      socket.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
    })
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()))
    socket.on('error', () => {})
    socket.setTimeout(10_000, () => socket.destroy())
    socket.once('close', () => resolve({ accepted: answer.startsWith('HTTP/1.1 200'), ...(peer ? { peer } : {}) }))
  })
}

interface WatchEvent {
  key: string
  rev: number
}

/** A WSS watch on rot/ opened with the client's files as they are now; resolves once etcd created it. */
async function openWatch(url: string, tls: Material): Promise<{ socket: WebSocket; events: WatchEvent[] }> {
  const socket = new WebSocket(url, tls)
  const events: WatchEvent[] = []
  const created = new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.on('message', (data: Buffer) => {
      const { result } = JSON.parse(data.toString()) as { result: { created?: boolean; events?: { kv: { key: string; mod_revision: string } }[] } }
      if (result.created) resolve()
      for (const e of result.events ?? []) events.push({ key: Buffer.from(e.kv.key, 'base64').toString(), rev: Number(e.kv.mod_revision) })
    })
  })
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
  socket.send(JSON.stringify({ create_request: { key: b64('rot/'), range_end: b64('rot0') } }))
  await created
  return { socket, events }
}
