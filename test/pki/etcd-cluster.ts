import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { guardChild } from '../helpers/process.js'

/** A real etcd cluster on 127.0.0.1 with peer TLS and client mTLS from kubeadm-shaped PKI trees (test-only). */
export interface MemberSpec {
  name: string
  /** the member's certificates directory (etcd/ca.crt, etcd/server.*, etcd/peer.*) */
  pkiDir: string
}

export interface RunningMember extends MemberSpec {
  clientPort: number
  peerPort: number
  dataDir: string
  process?: ChildProcess
}

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

export function etcdAvailable(): Promise<boolean> {
  return run('etcd', ['--version'], 5000).then((r) => r.code === 0)
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export class EtcdCluster {
  private constructor(readonly members: RunningMember[], private readonly root: string) {}

  /** Starts the members; a member that dies during start (a port taken between probe and bind) means new ports and another try. */
  static async start(specs: MemberSpec[], attempts = 3): Promise<EtcdCluster> {
    for (let attempt = 1; ; attempt++) {
      const root = await mkdtemp(join(tmpdir(), 'etcdgw-etcd-'))
      const members: RunningMember[] = []
      for (const spec of specs) {
        members.push({ ...spec, clientPort: await freePort(), peerPort: await freePort(), dataDir: join(root, spec.name) })
      }
      const cluster = new EtcdCluster(members, root)
      try {
        for (const member of members) cluster.spawnMember(member, 'new')
        await cluster.waitHealthy()
        return cluster
      } catch (err) {
        await cluster.stop()
        if (attempt >= attempts) throw err
      }
    }
  }

  get endpoints(): string {
    return this.members.map((m) => `https://127.0.0.1:${m.clientPort}`).join(',')
  }

  /** etcd reads its trusted CA files only at start; a restart with the same data dir re-reads them. */
  async restartAll(): Promise<void> {
    await Promise.all(this.members.map((m) => stopProcess(m)))
    for (const member of this.members) this.spawnMember(member, 'existing')
    await this.waitHealthy()
  }

  /** Stops one member and starts it again on its data dir (re-reading its trusted CA files); resolves once all members are healthy. */
  async restartMember(member: RunningMember, client = this.members[0]!.pkiDir): Promise<void> {
    await stopProcess(member)
    this.spawnMember(member, 'existing')
    await this.waitHealthy(client)
  }

  /** Each member's ID and the leader's, as decimal strings (etcd's JSON headers carry uint64s JSON numbers cannot hold). */
  async memberIds(client = this.members[0]!.pkiDir): Promise<{ ids: string[]; leader: string }> {
    const r = await this.etcdctl(['endpoint', 'status', '-w', 'json'], clientFiles(client, 'etcd/healthcheck-client'))
    const found = new Map<string, { id: string; leader: string }>()
    for (const m of r.stdout.matchAll(/"Endpoint":"([^"]+)","Status":\{"header":\{"cluster_id":\d+,"member_id":(\d+).*?"leader":(\d+)/g)) {
      found.set(m[1]!, { id: m[2]!, leader: m[3]! })
    }
    const ids = this.members.map((m) => found.get(`https://127.0.0.1:${m.clientPort}`)?.id)
    const leader = [...found.values()][0]?.leader
    if (ids.includes(undefined) || leader === undefined) throw new Error(`etcdctl endpoint status: ${r.stdout}${r.stderr}`)
    return { ids: ids as string[], leader }
  }

  /** Hands the leadership to the member with this ID (etcdctl move-leader finds the current leader). */
  async moveLeader(to: string, client = this.members[0]!.pkiDir): Promise<void> {
    const r = await this.etcdctl(['move-leader', BigInt(to).toString(16)], clientFiles(client, 'etcd/healthcheck-client'))
    if (r.code !== 0) throw new Error(`etcdctl move-leader: ${r.stderr}`)
  }

  /** The member's etcd output so far. */
  log(member: RunningMember): Promise<string> {
    return readFile(`${member.dataDir}.log`, 'utf8').catch(() => '')
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => stopProcess(m)))
    await rm(this.root, { recursive: true, force: true })
  }

  /** Waits until every member answers a health check with the given client certificate files. */
  async waitHealthy(client = this.members[0]!.pkiDir, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last: ExecResult | undefined
    while (Date.now() < deadline) {
      last = await this.etcdctl(['endpoint', 'health'], clientFiles(client, 'etcd/healthcheck-client'))
      if (last.code === 0) return
      for (const m of this.members) {
        if (m.process?.exitCode !== null && m.process?.exitCode !== undefined) {
          const log = await this.log(m)
          throw new Error(`etcd ${m.name} exited with ${m.process.exitCode}:\n${log.split('\n').slice(-8).join('\n')}`)
        }
      }
      await new Promise((r) => setTimeout(r, 300))
    }
    throw new Error(`etcd cluster not healthy after ${timeoutMs} ms: ${last?.stderr}`)
  }

  etcdctl(args: string[], tls: TlsFiles | null, endpoints = this.endpoints): Promise<ExecResult> {
    const tlsArgs = tls ? [`--cacert=${tls.ca}`, ...(tls.cert ? [`--cert=${tls.cert}`, `--key=${tls.key}`] : [])] : []
    return run('etcdctl', [`--endpoints=${endpoints}`, '--dial-timeout=2s', '--command-timeout=3s', ...tlsArgs, ...args], 15_000, { ETCDCTL_API: '3' })
  }

  private spawnMember(member: RunningMember, state: 'new' | 'existing'): void {
    const ca = join(member.pkiDir, 'etcd/ca.crt')
    const peers = this.members.map((m) => `${m.name}=https://127.0.0.1:${m.peerPort}`).join(',')
    const args = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=https://127.0.0.1:${member.clientPort}`,
      `--advertise-client-urls=https://127.0.0.1:${member.clientPort}`,
      `--listen-peer-urls=https://127.0.0.1:${member.peerPort}`,
      `--initial-advertise-peer-urls=https://127.0.0.1:${member.peerPort}`,
      `--initial-cluster=${peers}`,
      `--initial-cluster-state=${state}`,
      '--initial-cluster-token=etcdgw-pki-test',
      // the flags kubeadm's static pod passes (phases/etcd/local.go)
      `--cert-file=${join(member.pkiDir, 'etcd/server.crt')}`,
      `--key-file=${join(member.pkiDir, 'etcd/server.key')}`,
      '--client-cert-auth=true',
      `--trusted-ca-file=${ca}`,
      `--peer-cert-file=${join(member.pkiDir, 'etcd/peer.crt')}`,
      `--peer-key-file=${join(member.pkiDir, 'etcd/peer.key')}`,
      '--peer-client-cert-auth=true',
      `--peer-trusted-ca-file=${ca}`,
      // elections within half a second rather than etcd's default 1 s: every start and rolling restart waits for one
      '--heartbeat-interval=50',
      '--election-timeout=500',
    ]
    const log = createWriteStream(`${member.dataDir}.log`, { flags: 'a' })
    const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    guardChild(child)
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    member.process = child
  }
}

export interface TlsFiles {
  ca: string
  cert?: string
  key?: string
}

/** `dir/<base>.crt` and `.key` with `dir/etcd/ca.crt` as the trust file. */
export function clientFiles(dir: string, base: string): TlsFiles {
  return { ca: join(dir, 'etcd/ca.crt'), cert: join(dir, `${base}.crt`), key: join(dir, `${base}.key`) }
}

async function stopProcess(member: RunningMember): Promise<void> {
  const child = member.process
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

export function run(command: string, args: string[], timeoutMs: number, env: Record<string, string> = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}
