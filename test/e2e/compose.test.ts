/**
 * docker-compose.yml without Docker: the file is parsed, the `pki` service's script runs into a temp
 * dir, the three etcd members run with the Debian etcd binary (3.4; the file pins the 3.5 image) and
 * the gateway with `etcdgw serve`, each with exactly the file's flags and certificates. Only container
 * addresses change: every ip:port becomes its own free loopback port, /pki and the data volumes become
 * temp dirs. Every flag the file gives etcd exists in 3.4 too, so none is dropped (an unknown one would
 * make etcd 3.4 exit at start-up, failing this test). The services' own healthchecks, remapped the same
 * way, decide readiness; then /health, a put/get and a WSS watch go through the gateway, and etcdctl
 * with the members' healthcheck certificate reads the key back from every member.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { WebSocket } from 'ws'
import { parse } from 'yaml'
import { ETCD_BIN, etcdMissing } from '../helpers/etcd.js'
import { launch, type RunningServer } from '../helpers/managed-server.js'
import { freePort } from '../helpers/process.js'
import { MAIN } from '../helpers/serve-process.js'
import { eventually } from '../helpers/eventually.js'
import { nodeGet, nodePost } from '../helpers/tls-client.js'

const COMPOSE_FILE = fileURLToPath(new URL('../../../docker-compose.yml', import.meta.url))
const ETCDCTL = join(dirname(ETCD_BIN), 'etcdctl')

interface Service {
  image?: string
  entrypoint?: string[]
  command: string[]
  networks?: Record<string, { ipv4_address?: string }>
  ports?: string[]
  volumes?: string[]
  healthcheck?: { test: string[] }
  environment?: Record<string, string>
}

interface Run {
  code: number
  stdout: string
  stderr: string
}

function run(file: string, args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException).code ?? 1) : 0, stdout, stderr })
    })
  })
}

/** A program named in the file, as it is found on this machine (the image's PATH holds etcd and etcdgw). */
function localProgram(argv: string[]): { file: string; args: string[] } {
  const [name, ...args] = argv
  if (name === 'etcd') return { file: ETCD_BIN, args }
  if (name === 'etcdctl') return { file: ETCDCTL, args }
  if (name === 'etcdgw') return { file: process.execPath, args: [MAIN, ...args] }
  if (name === 'node') return { file: process.execPath, args }
  throw new Error(`no local program for ${name}`)
}

/** The container address → loopback port table, and the rewriting of one service's arguments. */
class Topology {
  private readonly ports = new Map<string, number>()
  readonly root = mkdtempSync(join(tmpdir(), 'etcdgw-compose-'))
  readonly pkiDir = join(this.root, 'pki')

  constructor(readonly services: Record<string, Service>) {}

  ipOf(name: string): string {
    const ip = Object.values(this.services[name]!.networks ?? {})[0]?.ipv4_address
    if (!ip) throw new Error(`service ${name} has no fixed address`)
    return ip
  }

  async allocate(name: string, containerPorts: number[]): Promise<void> {
    for (const port of containerPorts) this.ports.set(`${this.ipOf(name)}:${port}`, await freePort())
  }

  port(name: string, containerPort: number): number {
    return this.ports.get(`${this.ipOf(name)}:${containerPort}`)!
  }

  /** `localhost:H` on the host is the container port H is published to (`ports: ["H:C"]`). */
  private published(hostPort: number): string {
    for (const [name, s] of Object.entries(this.services)) {
      for (const p of s.ports ?? []) {
        const [host, container] = p.split(':')
        if (Number(host) === hostPort) return `${this.ipOf(name)}:${container}`
      }
    }
    throw new Error(`no service publishes port ${hostPort}`)
  }

  /** One argument of `service`, with its addresses, certificate paths and data volume moved to this machine. */
  remap(arg: string, service: string, dataDir?: string): string {
    let out = arg.replace(/(https?:\/\/)([\w.-]+):(\d+)/g, (_m, scheme: string, host: string, port: string) => {
      const key = host === 'localhost' ? this.published(Number(port)) : `${host === '0.0.0.0' || host === '127.0.0.1' ? this.ipOf(service) : host}:${port}`
      const local = this.ports.get(key)
      if (local === undefined) throw new Error(`${service}: no loopback port for ${key} (in ${arg})`)
      return `${scheme}${host === 'localhost' ? 'localhost' : '127.0.0.1'}:${local}`
    })
    out = out.replaceAll('/pki/', `${this.pkiDir}/`)
    for (const volume of this.services[service]!.volumes ?? []) {
      const [, target] = volume.split(':')
      if (dataDir && volume.includes('-data:')) out = out.replaceAll(target!, dataDir)
    }
    return out
  }

  /** The service's healthcheck (CMD form) as a local command line. */
  healthcheck(service: string): { file: string; args: string[]; env: Record<string, string> } {
    const [form, ...argv] = this.services[service]!.healthcheck!.test
    if (form !== 'CMD') throw new Error(`${service}: healthcheck form ${form} is not handled`)
    const env = Object.fromEntries(Object.entries(this.services[service]!.environment ?? {}).map(([k, v]) => [k, this.remap(v, service)]))
    return { ...localProgram(argv.map((a) => this.remap(a, service))), env }
  }

  async healthy(service: string): Promise<boolean> {
    const h = this.healthcheck(service)
    return (await run(h.file, h.args, h.env, 5_000)).code === 0
  }
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)

t.test('docker-compose.yml: pki, three mTLS etcd members and the TLS gateway, on loopback', async (t) => {
  const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as { services: Record<string, Service> }
  const topo = new Topology(compose.services)
  t.teardown(() => rmSync(topo.root, { recursive: true, force: true }))
  const members = Object.keys(compose.services).filter((name) => compose.services[name]!.image?.includes('etcd'))
  t.same(members, ['etcd-1', 'etcd-2', 'etcd-3'])

  // pki: its script as the file has it, `$$` being compose's escape for `$`. The chown hands the
  // gateway's files to the image's `node` user; here one user runs everything, so it is left out.
  const pki = compose.services.pki!
  t.same(pki.entrypoint, ['/bin/sh', '-ec'])
  const script = pki.command[0]!
    .replaceAll('$$', '$')
    .split('\n')
    .filter((line) => !line.trim().startsWith('chown '))
    .join('\n')
    .replaceAll('/pki/', `${topo.pkiDir}/`)
  const made = await run('sh', ['-ec', `etcdgw() { "$NODE" "$MAIN" "$@"; }\n${script}`], { NODE: process.execPath, MAIN }, 180_000)
  t.equal(made.code, 0, `pki script: ${made.stderr}`)

  for (const name of members) await topo.allocate(name, [2379, 2380])
  await topo.allocate('gateway', [2379])

  // the members need each other for a leader, so they start together; each is ready when its healthcheck passes
  const started: RunningServer[] = await Promise.all(
    members.map((name) => {
      const argv = compose.services[name]!.command
      return launch({
        what: `compose-${name}`,
        command: localProgram(argv).file,
        portCount: 2,
        ports: [topo.port(name, 2379), topo.port(name, 2380)],
        args: (_ports, dataDir) => localProgram(argv).args.map((a) => topo.remap(a, name, dataDir)),
        ready: () => topo.healthy(name),
        startTimeoutMs: 60_000,
        teardown: t,
      })
    }),
  )
  t.equal(started.length, 3)

  // the gateway: the image's entrypoint is `etcdgw`, the service's command its arguments
  const gwArgs = compose.services.gateway!.command
  t.equal(gwArgs[0], 'serve')
  await launch({
    what: 'compose-gateway',
    command: process.execPath,
    portCount: 1,
    ports: [topo.port('gateway', 2379)],
    args: () => [MAIN, ...gwArgs.map((a) => topo.remap(a, 'gateway'))],
    ready: () => topo.healthy('gateway'),
    startTimeoutMs: 30_000,
    teardown: t,
  })

  const gateway = `https://127.0.0.1:${topo.port('gateway', 2379)}`
  const tls = { ca: join(topo.pkiDir, 'gateway/etcd/ca.crt') }
  const health = await nodeGet(`${gateway}/health`, tls)
  t.equal(health.status, 200)
  t.same(JSON.parse(health.body), { health: 'true' }, "etcd 3.4's /health body")

  const key = Buffer.from('compose/key').toString('base64')
  const value = 'through the gateway'
  const ws = new WebSocket(`${gateway.replace(/^https/, 'wss')}/v3/watch`, { ca: readFileSync(tls.ca) })
  t.teardown(() => ws.terminate())
  const frames: string[] = []
  ws.on('message', (data: Buffer) => frames.push(data.toString('utf8')))
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
  ws.send(JSON.stringify({ create_request: { key } }))
  t.ok(await eventually(async () => frames.length >= 1, 10_000), 'the watch is created')
  t.match(frames[0], /"created":true/)

  const put = await nodePost(`${gateway}/v3/kv/put`, JSON.stringify({ key, value: Buffer.from(value).toString('base64') }), tls)
  t.equal(put.status, 200, put.body)
  const got = await nodePost(`${gateway}/v3/kv/range`, JSON.stringify({ key }), tls)
  t.equal(got.status, 200, got.body)
  const kvs = (JSON.parse(got.body) as { kvs: Array<{ value: string }> }).kvs
  t.equal(Buffer.from(kvs[0]!.value, 'base64').toString(), value)

  t.ok(await eventually(async () => frames.length >= 2, 10_000), 'the watch sees the put')
  const event = (JSON.parse(frames[1]!) as { result: { events: Array<{ kv: { key: string; value: string } }> } }).result.events[0]!
  t.equal(event.kv.key, key)
  t.equal(Buffer.from(event.kv.value, 'base64').toString(), value)
  ws.close()

  // etcdctl with the members' healthcheck certificate, straight at each member: the same key
  for (const name of members) {
    const h = topo.healthcheck(name)
    const args = [...h.args.slice(0, -2), 'get', 'compose/key', '--print-value-only']
    t.same(h.args.slice(-2), ['endpoint', 'health'])
    const r = await run(h.file, args)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.trim(), value, `${name} serves the key put through the gateway`)
  }

  // the CLI over TLS sees the whole cluster through the gateway
  const list = await run(process.execPath, [MAIN, 'member', 'list', '-w', 'json', '--endpoints', gateway, '--cacert', tls.ca])
  t.equal(list.code, 0, list.stderr)
  const names = (JSON.parse(list.stdout) as { members: Array<{ name: string }> }).members.map((m) => m.name).sort()
  t.same(names, members)
})
