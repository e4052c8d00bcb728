/**
 * Snapshot save and restore, etcdgw beside etcd's own tools, on one store of N keys (256-byte values):
 * the embedded store is filled, `etcdgw snapshot save` streams it from `etcdgw serve`, etcdctl restores
 * that file into an etcd data dir (so both servers hold the same data), `etcdctl snapshot save` streams
 * it from that etcd, and both restores run on etcd's file. Wall time and peak RSS of each command (GNU
 * time), the servers' RSS before the save and their peak after it (/proc VmRSS, VmHWM), and the CPU each
 * server used during its save (the figure that holds up on a shared machine). Each save starts once its
 * server is idle after start-up, and each command with no dirty pages left by the one before.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openEmbeddedBackend } from '../src/backend/embedded/index.js'
import { stop, track, trackDir } from './processes.js'
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { cpuOf, ETCD_BIN } from './targets.js'

const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url))
const ETCDCTL_BIN = process.env.ETCDCTL_BIN ?? '/usr/bin/etcdctl'
const VALUE_BYTES = 256

interface Measured {
  what: string
  seconds: number
  peakRssKb: number
}

/**
 * Runs a command under GNU time; its wall time and peak RSS. The page cache's dirty pages are written out
 * first (sync(1)), so no command waits on the disk for the writes of the one before it.
 */
function run(what: string, command: string, args: string[]): Promise<Measured> {
  execFileSync('sync')
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIMED %e %M', command, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('close', (code) => {
      const m = /TIMED ([\d.]+) (\d+)/.exec(stderr)
      if (code !== 0 || !m) return reject(new Error(`${what} failed (${code}): ${stderr.slice(-2000)}`))
      resolve({ what, seconds: Number(m[1]), peakRssKb: Number(m[2]) })
    })
  })
}

function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN)
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

async function serveUntilHealthy(command: string, args: string[], url: string): Promise<ChildProcess> {
  const child = track(spawn(command, args, { stdio: 'ignore' }))
  for (let i = 0; i < 600; i++) {
    try {
      const res = await fetch(`${url}/health`)
      if (res.status === 200) return child
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${command} did not become healthy at ${url}`)
}

/**
 * Waits until `pid` has finished its start-up work (under 5 % of a core over half a second; at most 30 s):
 * etcdgw answers /health while it still builds its in-memory key map, which a save would otherwise share
 * its thread with, and the save is to measure the snapshot, not the start-up.
 */
async function settled(pid: number): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const before = cpuOf(pid)
    await new Promise((r) => setTimeout(r, 500))
    if (cpuOf(pid) - before < 0.025) return
  }
}

async function fill(dataDir: string, keys: number): Promise<void> {
  const backend = await openEmbeddedBackend({ dataDir, name: 'default', maxTxnOps: 128 })
  const value = Buffer.alloc(VALUE_BYTES, 0x61)
  let batch: Promise<unknown>[] = []
  for (let i = 0; i < keys; i++) {
    const key = Buffer.from(`bench/${String(i).padStart(10, '0')}`)
    batch.push(backend.kv.put({ key, value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false }))
    if (batch.length >= 4096) {
      await Promise.all(batch)
      batch = []
    }
  }
  await Promise.all(batch)
  await backend.close()
}

export async function runSnapshotBench(opts: { keys: number }): Promise<{ text: string; markdown: string }> {
  const dir = trackDir(mkdtempSync(join(tmpdir(), 'etcdgw-bench-snapshot-')))
  const facts = [...machineFacts(), `keys: ${opts.keys.toLocaleString('en-US')} with ${VALUE_BYTES}-byte values`]
  const t0 = Date.now()
  await fill(join(dir, 'embedded'), opts.keys)
  facts.push(`filling the embedded store took ${((Date.now() - t0) / 1000).toFixed(1)} s (not measured below)`)

  const gwPort = await freePort()
  const gwUrl = `http://127.0.0.1:${gwPort}`
  const gw = await serveUntilHealthy(process.execPath, [MAIN_JS, 'serve', '--data-dir', join(dir, 'embedded'), '--listen-client-urls', gwUrl], gwUrl)
  await settled(gw.pid!)
  const gwBefore = { ...memoryOf(gw.pid!), cpu: cpuOf(gw.pid!) }
  const gwSave = await run('etcdgw snapshot save (from etcdgw serve)', process.execPath, [MAIN_JS, 'snapshot', 'save', join(dir, 'gw.db'), '--endpoints', gwUrl])
  const gwAfter = { ...memoryOf(gw.pid!), cpu: cpuOf(gw.pid!) }
  await stop(gw)

  await run('etcdctl snapshot restore (of the etcdgw file, to fill etcd)', ETCDCTL_BIN, ['snapshot', 'restore', join(dir, 'gw.db'), '--data-dir', join(dir, 'etcd')])
  const [client, peer] = [await freePort(), await freePort()]
  const etcdUrl = `http://127.0.0.1:${client}`
  const etcd = await serveUntilHealthy(
    ETCD_BIN,
    ['--data-dir', join(dir, 'etcd'), '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl, '--listen-peer-urls', `http://127.0.0.1:${peer}`],
    etcdUrl,
  )
  await settled(etcd.pid!)
  const etcdBefore = { ...memoryOf(etcd.pid!), cpu: cpuOf(etcd.pid!) }
  const etcdSave = await run('etcdctl snapshot save (from etcd)', ETCDCTL_BIN, ['--endpoints', etcdUrl, 'snapshot', 'save', join(dir, 'etcd.db')])
  const etcdAfter = { ...memoryOf(etcd.pid!), cpu: cpuOf(etcd.pid!) }
  await stop(etcd)

  const etcdRestore = await run('etcdctl snapshot restore (of the etcd file)', ETCDCTL_BIN, ['snapshot', 'restore', join(dir, 'etcd.db'), '--data-dir', join(dir, 'r-etcd')])
  const gwRestore = await run('etcdgw snapshot restore (of the etcd file)', process.execPath, [MAIN_JS, 'snapshot', 'restore', join(dir, 'etcd.db'), '--data-dir', join(dir, 'r-gw')])
  facts.push(`snapshot files: etcdgw's ${(statSync(join(dir, 'gw.db')).size / 2 ** 20).toFixed(1)} MiB, etcd's ${(statSync(join(dir, 'etcd.db')).size / 2 ** 20).toFixed(1)} MiB`)
  facts.push(`load average at end: ${loadAverage()}`)

  const mib = (kb: number) => (kb / 1024).toFixed(1)
  const table: Table = {
    header: ['command', 'wall s', 'command peak RSS MiB', 'server RSS before MiB', 'server peak RSS after MiB', 'server CPU s during it'],
    rows: [
      [gwSave.what, gwSave.seconds.toFixed(2), mib(gwSave.peakRssKb), mib(gwBefore.rssKb), mib(gwAfter.hwmKb), (gwAfter.cpu - gwBefore.cpu).toFixed(2)],
      [etcdSave.what, etcdSave.seconds.toFixed(2), mib(etcdSave.peakRssKb), mib(etcdBefore.rssKb), mib(etcdAfter.hwmKb), (etcdAfter.cpu - etcdBefore.cpu).toFixed(2)],
      [gwRestore.what, gwRestore.seconds.toFixed(2), mib(gwRestore.peakRssKb), '', '', ''],
      [etcdRestore.what, etcdRestore.seconds.toFixed(2), mib(etcdRestore.peakRssKb), '', '', ''],
    ],
  }
  const heading = `## Snapshot save and restore: etcdgw beside etcdctl\n\nRun ${new Date().toISOString()}.\n\n${facts.map((f) => `- ${f}`).join('\n')}`
  return { text: `${facts.join('\n')}\n\n${renderText(table)}`, markdown: `${heading}\n\n${renderMarkdown(table)}\n` }
}
