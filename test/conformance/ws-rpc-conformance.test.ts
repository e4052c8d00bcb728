/**
 * Unary RPCs (and the snapshot stream) over WebSocket, frame by frame against real etcd's gateway
 * (grpc-websocket-proxy): what answers the first request (its response, or etcd's error body), and that
 * a first message that does not decode drops the connection (no close frame: the client sees 1006). etcd
 * drops the connection after any first answer; etcdgw keeps it and answers what follows, a malformed
 * message included, which each case checks on ours.
 */
import { createHash } from 'node:crypto'
import t, { type Test } from 'tap'
import { WebSocket } from 'ws'
import { etcdMissing, OUR_TARGETS, startRealEtcd } from '../helpers/servers.js'
import { b64, normalize, post } from '../helpers/stream-clients.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

interface Case {
  path: string
  /** Frames sent at once; the first request may span them. */
  frames: string[]
  /** The first message does not decode: the answer is its error and the connection drops. */
  undecodable?: true
}

const json = (v: unknown) => JSON.stringify(v)
const k = b64('ws/k')

const cases: Case[] = [
  { path: '/v3/kv/put', frames: [json({ key: k, value: b64('one') })] },
  { path: '/v3/kv/range', frames: [json({ key: k })] },
  { path: '/v3beta/kv/range', frames: [json({ key: k, keys_only: true })] },
  // one request split over frames, and an empty frame before one
  { path: '/v3/kv/put', frames: ['{"key":', `"${k}","value":"${b64('two')}"}`] },
  { path: '/v3/kv/range', frames: ['', json({ key: k })] },
  // two requests in one frame: etcd answers the first and drops the connection
  { path: '/v3/kv/range', frames: [json({ key: k }) + json({ key: b64('other') })] },
  { path: '/v3/kv/txn', frames: [json({ compare: [{ key: k, target: 'VERSION', version: 2 }], success: [{ request_range: { key: k } }] })] },
  { path: '/v3/kv/deleterange', frames: [json({ key: k, prev_kv: true })] },
  { path: '/v3/kv/compaction', frames: [json({ revision: 2 })] },
  { path: '/v3/lease/grant', frames: [json({ TTL: 100, ID: 4711 })] },
  { path: '/v3/kv/lease/leases', frames: ['{}'] },
  { path: '/v3/lease/timetolive', frames: [json({ ID: 5 })] },
  // errors of the call: etcd's body, code and message
  { path: '/v3/kv/put', frames: [json({ key: '', value: b64('v') })] },
  { path: '/v3/lease/revoke', frames: [json({ ID: 5 })] },
  { path: '/v3/kv/range', frames: [json({ key: k, revision: 1 })] },
  // messages that do not decode
  { path: '/v3/kv/range', frames: ['xx'], undecodable: true },
  { path: '/v3/kv/range', frames: [json({ key: 1 })], undecodable: true },
  { path: '/v3/lease/grant', frames: [json({ TTL: 'x' })], undecodable: true },
  { path: '/v3/maintenance/snapshot', frames: ['xx'], undecodable: true },
]

/** Paths with no RPC: etcd upgrades, sends its 404 body as a frame and drops the connection. */
const unknownPaths = ['/v3/kv/nope', '/v3/kv/range/', '/v3/']

/** A socket's frames as they arrive. */
class Client {
  readonly frames: string[] = []
  readonly closed: Promise<number>
  private waiting: (() => void)[] = []

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      this.frames.push(data.toString('utf8'))
      for (const wake of this.waiting.splice(0)) wake()
    })
    this.closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)))
  }

  static async open(baseUrl: string, path: string): Promise<Client> {
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + path)
    const client = new Client(socket)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    return client
  }

  /** Resolves once `n` frames have arrived. */
  async frame(n: number): Promise<string> {
    while (this.frames.length < n) await new Promise<void>((resolve) => this.waiting.push(resolve))
    return normalize(this.frames[n - 1]!)
  }
}

/**
 * Each case's first answer, and for a message that does not decode that the connection drops; where it
 * was answered, `answered` goes on with the case. Then the paths with no RPC.
 */
async function transcript(url: string, answered: (c: Case, client: Client) => Promise<void>): Promise<string[]> {
  const out: string[] = []
  for (const c of cases) {
    const client = await Client.open(url, c.path)
    for (const f of c.frames) client.socket.send(f)
    out.push(`${c.path} ${await client.frame(1)}`)
    if (c.undecodable) out.push(`closed ${await client.closed}`)
    else await answered(c, client)
  }
  for (const path of unknownPaths) {
    const client = await Client.open(url, path)
    out.push(`${path} ${await client.frame(1)}`, `closed ${await client.closed}`)
  }
  return out
}

/** etcd drops the connection after every answer: checked here, left out of the transcript. */
const onEtcd = (t: Test, url: string) =>
  transcript(url, async (c, client) => {
    t.equal(await client.closed, 1006, `${c.path}: etcd drops the connection after its answer`)
    t.equal(client.frames.length, 1, `${c.path}: etcd answers one request`)
  })

/**
 * Where etcd drops the connection after an answer, ours must still answer on it: a malformed message
 * (which changes nothing) gets its error frame, then the client closes the socket.
 */
const onOurs = (t: Test, url: string) =>
  transcript(url, async (c, client) => {
    // what etcd never reads: a second request in the first frame, then a malformed one
    const extra = c.frames.join('').includes('}{') ? 1 : 0
    client.socket.send('xx')
    t.equal(
      await client.frame(2 + extra),
      '{"error":"invalid character \'x\' looking for beginning of value","message":"invalid character \'x\' looking for beginning of value","code":3}',
      `${c.path}: a malformed later message is answered on the open socket`,
    )
    client.socket.close()
    await client.closed
  })

t.test('unary RPCs over WebSocket: etcd vs etcdgw', async (t) => {
  const etcd = await startRealEtcd(t)
  const want = await onEtcd(t, etcd.url)
  t.ok(want.some((line) => line.startsWith('/v3/kv/put {"header"')), 'etcd answered the put')
  for (const [target, start] of OUR_TARGETS) {
    const ours = await start(t)
    t.strictSame(await onOurs(t, ours.url), want, target)
  }
})

t.test('etcdgw answers every request on one socket, in order, as POST answers it', async (t) => {
  const [, start] = OUR_TARGETS[0]
  const ours = await start(t)
  const client = await Client.open(ours.url, '/v3/kv/txn')
  const put = (v: string) => json({ success: [{ request_put: { key: k, value: b64(v) } }] })
  const read = json({ success: [{ request_range: { key: k } }] })
  // three in one frame, one more in the next: each waits for the one before
  client.socket.send(put('a') + put('b') + read)
  client.socket.send(read)
  const frames = await Promise.all([1, 2, 3, 4].map((n) => client.frame(n)))
  t.match(frames[0], /"revision":"2"/)
  t.match(frames[1], /"revision":"3"/)
  t.match(frames[2], new RegExp(`"value":"${b64('b')}"`))
  t.equal(frames[3], normalize((await post(ours.url, '/v3/kv/txn', read)).body), 'the same answer as over POST')
  client.socket.close()
  await client.closed
})

/** The snapshot stream: what its frames are, and how it ends. */
async function snapshotOver(url: string): Promise<string[]> {
  const client = await Client.open(url, '/v3/maintenance/snapshot')
  client.socket.send('{}')
  const closed = await client.closed
  const results = client.frames.map((f) => (JSON.parse(f) as { result: { blob: string; remaining_bytes?: string } }).result)
  const data = Buffer.concat(results.slice(0, -1).map((r) => Buffer.from(r.blob, 'base64')))
  const last = results.at(-1)!
  return [
    `closed ${closed}`,
    `every frame a result: ${results.every((r) => typeof r.blob === 'string')}`,
    `the last one the sha256 of the rest: ${last.blob === createHash('sha256').update(data).digest('base64') && last.remaining_bytes === undefined}`,
    `the db file's magic in its first page: ${data.readUInt32LE(16).toString(16)}`,
  ]
}

t.test('the snapshot stream over WebSocket: etcd vs etcdgw', async (t) => {
  const etcd = await startRealEtcd(t)
  const want = await snapshotOver(etcd.url)
  t.strictSame(want.slice(0, 3), ['closed 1006', 'every frame a result: true', 'the last one the sha256 of the rest: true'])
  for (const [target, start] of OUR_TARGETS) t.strictSame(await snapshotOver((await start(t)).url), want, target)
})
