import { spawn } from 'node:child_process'
import { runCli as runCommand } from '../helpers/snapshot-workload.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { eventually } from '../helpers/eventually.js'
import { scrape } from '../helpers/exposition.js'
import { startServe } from '../helpers/serve-process.js'
import { mtlsArgs, pkiFor } from '../helpers/tls-serve-fixture.js'
import { ETCDCTL_BIN as ETCDCTL, etcdMissing, startEtcd } from '../helpers/etcd.js'
import { MAIN_JS, startGateway } from '../helpers/gateway.js'

/**
 * `etcdgw get|put|del|watch` print what etcdctl 3.4 prints for the same commands on the same data:
 * etcdctl against real etcd, ours against our server (embedded store, and the remote backend in
 * front of another real etcd).
 */

interface Output {
  code: number | null
  stdout: string
  /** The last line of stderr (etcdctl logs retries before its "Error: ..." line). */
  error: string
}

/** etcdctl logs retries before its "Error: ..." line: the last line of stderr is the error. */
async function runCli(command: string, args: string[], env: Record<string, string> = {}): Promise<Output> {
  const { code, stdout, stderr } = await runCommand(command, args, env)
  return { code, stdout, error: stderr.trim().split('\n').at(-1) ?? '' }
}

type Client = (args: string[]) => Promise<Output>

const etcdctl = (url: string): Client => (args) => runCli(ETCDCTL, ['--endpoints', url, ...args])
const ours = (url: string): Client => (args) => runCli(process.execPath, [MAIN_JS, ...args, '--endpoints', url])

/** cluster and member ids are random per cluster. */
const normalize = (s: string) => s.replace(/"(cluster_id|member_id)":\d+/g, '"$1":0')

const script: string[][] = [
  ['put', 'foo', 'bar'],
  ['put', 'foo/a', '1'],
  ['put', 'foo/b', 'two words'],
  ['put', 'empty', ''],
  ['put', 'ünï', 'cödé ✓'],
  ['get', 'foo'],
  ['get', 'foo', '--prefix'],
  ['get', 'foo', '--prefix', '--keys-only'],
  ['get', 'foo', '--prefix', '--limit', '1'],
  ['get', 'foo', '--prefix', '--limit', '1', '-w', 'json'],
  ['get', 'empty'],
  ['get', 'ünï'],
  ['get', '', '--prefix', '--keys-only'],
  ['get', 'a', 'g'],
  ['get', 'foo', '--rev', '2', '-w', 'json'],
  ['get', 'foo', '--rev', '100'],
  ['get', 'missing'],
  ['get', 'missing', '-w', 'json'],
  ['get', 'foo', '-w', 'json'],
  ['get', 'foo', '--prefix', '--keys-only', '-w', 'json'],
  ['put', 'x', 'y', '-w', 'json'],
  ['put', 'k', 'v', '--lease', '1234'],
  ['del', 'x', '-w', 'json'],
  ['del', 'foo/', '--prefix'],
  ['del', 'nothing'],
  ['get', '', '--prefix', '-w', 'json'],
]

async function transcript(client: Client): Promise<string[]> {
  const out: string[] = []
  for (const args of script) {
    const r = await client(args)
    out.push(`$ ${args.join(' ')}\n[exit ${r.code}]${r.code === 0 ? '' : ` ${r.error}`}\n${normalize(r.stdout)}`)
  }
  return out
}

/** Each watch and the events it prints: w/1's and w/2's puts and their deletes; w/1's put and delete of all three rounds. */
const watches = [
  { args: ['watch', 'w', '--prefix'], events: 4 },
  { args: ['watch', 'w', '--prefix', '-w', 'json'], events: 4 },
  { args: ['watch', 'w/1', '--rev', '2'], events: 6 },
]

/** Events in a watch's output: a PUT or DELETE line, or a kv of a JSON response. */
const eventsIn = (stdout: string) => stdout.match(/^(PUT|DELETE)$|"kv":/gm)?.length ?? 0

/** The server's watchers: etcd's gauge, which ours has too. */
async function watchersOn(url: string): Promise<number> {
  return (await scrape(url)).get('etcd_debugging_mvcc_watcher_total')?.samples[0]?.value ?? NaN
}

/**
 * A watcher started first, the writes once the server has its watcher, then the watcher's output after an
 * interrupt once it has printed every event.
 */
async function watchTranscript(t: Test, url: string, client: Client, start: (args: string[]) => Background): Promise<string[]> {
  const results: string[] = []
  const idle = await watchersOn(url)
  for (const { args, events } of watches) {
    // the last watcher's cancel may reach the server after its process has ended
    t.ok(await eventually(async () => (await watchersOn(url)) === idle, 20_000), `${args.join(' ')}: no watcher left from before`)
    const watcher = start(args)
    t.ok(await eventually(async () => (await watchersOn(url)) === idle + 1, 20_000), `${args.join(' ')}: the server has its watcher`)
    await client(['put', 'w/1', 'one'])
    await client(['put', 'w/2', 'two 2'])
    await client(['del', 'w', '--prefix'])
    t.ok(await eventually(async () => eventsIn(watcher.stdout()) >= events, 20_000), `${args.join(' ')}: ${events} events printed`)
    results.push(`$ ${args.join(' ')}\n${normalize(await watcher.stop())}`)
  }
  return results
}

interface Background {
  stdout(): string
  stop(): Promise<string>
}

function background(command: string, args: string[]): Background {
  const child = spawn(command, args, { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'ignore'] })
  let stdout = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('latin1')))
  return {
    stdout: () => stdout,
    stop: () =>
      new Promise((resolve) => {
        child.on('close', () => resolve(stdout))
        child.kill('SIGINT')
      }),
  }
}

t.test('etcdgw get/put/del/watch print as etcdctl does', { skip: etcdMissing() }, async (t) => {
  const [reference, behindRemote] = await Promise.all([
    startEtcd({ fastElection: true, teardown: t }),
    startEtcd({ fastElection: true, teardown: t }),
  ])
  const [embedded, remote] = await Promise.all([
    startGateway({ teardown: t }),
    startGateway({ teardown: t, flags: ['--endpoints', behindRemote.url] }),
  ])
  const expected = await transcript(etcdctl(reference.url))
  t.match(expected[5], /^\$ get foo\n\[exit 0\]\nfoo\nbar\n$/, 'etcdctl ran')

  const targets = { 'embedded store': embedded.url, 'remote backend': remote.url }
  const got = await Promise.all(Object.values(targets).map((url) => transcript(ours(url))))
  Object.keys(targets).forEach((name, i) => t.same(got[i], expected, `every command on ${name}`))

  const expectedWatch = await watchTranscript(t, reference.url, etcdctl(reference.url), (args) =>
    background(ETCDCTL, ['--endpoints', reference.url, ...args]),
  )
  t.match(expectedWatch[0], /PUT\nw\/1\none\n/, 'etcdctl watched')
  const gotWatch = await watchTranscript(t, embedded.url, ours(embedded.url), (args) =>
    background(process.execPath, [MAIN_JS, ...args, '--endpoints', embedded.url]),
  )
  t.same(gotWatch, expectedWatch, 'watch output')
})

t.test('--cacert --cert --key reach a server that requires client certificates', async (t) => {
  const pki = await pkiFor(t)
  const dataDir = mkdtempSync(join(tmpdir(), 'etcdgw-cli-tls-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const server = await startServe(t, mtlsArgs(pki, dataDir))
  const tls = ['--cacert', pki.ca, '--cert', pki.client.cert, '--key', pki.client.key]
  const client = ours(server.url)
  t.same(await client(['put', 'secure', 'yes', ...tls]), { code: 0, stdout: 'OK\n', error: '' })
  t.same(await client(['get', 'secure', ...tls]), { code: 0, stdout: 'secure\nyes\n', error: '' })
  const refused = await client(['get', 'secure', '--cacert', pki.ca])
  t.equal(refused.code, 1, 'no client certificate: refused')
  t.match(refused.error, /^Error: /)
  const untrusted = await client(['get', 'secure'])
  t.equal(untrusted.code, 1, 'no CA: the self-made server certificate is not trusted')
})
