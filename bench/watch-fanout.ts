/**
 * Watch fan-out over WebSocket (spec §7.3): N sockets with one watch each on one key, then puts over
 * one keep-alive HTTP connection, one at a time and spaced out; every (watcher, put) delivery is timed
 * from the put's acknowledgement. The sockets live in client processes of their own.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { hrtime } from 'node:process'
import { fileURLToPath } from 'node:url'
import type { FanoutClientReply, FanoutClientResult, PutTiming } from './fanout-protocol.js'
import { track } from './processes.js'
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { median } from './stats.js'
import { startFanoutCeiling, startTarget, type TargetName } from './targets.js'

export interface FanoutOptions {
  /** Watcher counts for etcdgw and the ceiling; real etcd runs at the smallest only. */
  watchers: number[]
  puts: number
  putIntervalMs: number
  runs: number
  targets: TargetName[]
  etcdgwNodeArgs: string[]
}

export interface FanoutReport {
  text: string
  markdown: string
}

interface Measured {
  target: TargetName
  watchers: number
  fromAck: [number, number]
  fromSend: [number, number]
  putMs: [number, number]
  missing: number
  kbPerWatcher: number
  rssMb: [number, number, number]
  openMs: number
  /** Server CPU (user + system) over the puts and their fan-out, per (watcher, put). */
  cpuUsPerDelivery: number
  /** etcdgw-remote: the watches etcd itself holds while every watcher is open. */
  upstreamWatches: number
}

const CLIENT = fileURLToPath(new URL('./fanout-client.js', import.meta.url))
const KEY = Buffer.from('fanout').toString('base64')
/** Sockets per client process: one Node process parsing 10,000 frames per put would be the bottleneck. */
const SOCKETS_PER_CLIENT = 5_000
/** How long after the last put a delivery still counts (later ones are missing). */
const DELIVERY_WAIT_MS = 10_000

const nowNs = (): number => Number(hrtime.bigint())
const log = (s: string): void => console.error(`bench: ${s}`)

export async function runFanoutBench(opts: FanoutOptions): Promise<FanoutReport> {
  const startedAt = new Date()
  const facts = machineFacts()
  const cells: { target: TargetName; watchers: number }[] = []
  const smallest = Math.min(...opts.watchers)
  if (opts.targets.includes('etcd')) cells.push({ target: 'etcd', watchers: smallest })
  for (const n of opts.watchers) {
    for (const target of ['etcdgw', 'etcdgw-remote', 'ceiling'] as const) if (opts.targets.includes(target)) cells.push({ target, watchers: n })
  }
  const runs: Measured[][] = cells.map(() => [])
  for (let run = 1; run <= opts.runs; run++) {
    for (const [i, cell] of cells.entries()) {
      const m = await measure(cell.target, cell.watchers, opts)
      runs[i].push(m)
      log(
        `run ${run}: ${cell.target} × ${cell.watchers}: from ack p50 ${m.fromAck[0].toFixed(1)} / p99 ${m.fromAck[1].toFixed(1)} ms, ` +
          `missing ${m.missing}, ${m.kbPerWatcher.toFixed(1)} KB per watcher (load ${loadAverage()})`,
      )
    }
  }
  const rows = runs.map(summarizeRuns)
  const table = fanoutTable(rows)
  const checks = targetsTable(rows)
  const header = [
    `Run ${startedAt.toISOString()}: ${opts.runs} run(s), medians; ${opts.puts} puts ${opts.putIntervalMs} ms apart; ` +
      `one watch per WebSocket on one key, client processes of ≤ ${SOCKETS_PER_CLIENT.toLocaleString('en-US')} sockets.`,
    ...facts,
    `load average at end: ${loadAverage()}`,
  ]
  return {
    text: [...header, '', renderText(table), '', renderText(checks)].join('\n'),
    markdown: [
      '### Watch fan-out (WebSocket)',
      '',
      ...header.map((l) => `- ${l}`),
      '',
      renderMarkdown(table),
      '',
      renderMarkdown(checks),
    ].join('\n'),
  }
}

async function measure(name: TargetName, watchers: number, opts: FanoutOptions): Promise<Measured> {
  // etcdgw-remote: watchers on etcdgw, puts straight to the etcd member behind it (latency from etcd's ack)
  const upstream = name === 'etcdgw-remote' ? await startTarget('etcd') : undefined
  const nodeArgs = name === 'etcd' ? {} : { nodeArgs: opts.etcdgwNodeArgs }
  const target =
    name === 'ceiling' ? await startFanoutCeiling() : await startTarget(name, upstream ? { ...nodeArgs, upstream: upstream.url } : nodeArgs)
  try {
    const idle = target.rssBytes()
    const clients: ChildProcess[] = []
    for (let left = watchers; left > 0; left -= SOCKETS_PER_CLIENT) {
      clients.push(track(fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })))
    }
    const counts = clients.map((_, i) => Math.min(SOCKETS_PER_CLIENT, watchers - i * SOCKETS_PER_CLIENT))
    const ready = await Promise.all(
      clients.map((c, i) => ask(c, { type: 'open', url: target.url, key: KEY, count: counts[i] }, 'ready')),
    )
    const withWatchers = target.rssBytes()
    const upstreamWatches = upstream ? await etcdWatchers(upstream.url) : NaN
    const cpuBefore = target.cpuSeconds()
    const puts = await putSeries(upstream?.url ?? target.url, opts.puts, opts.putIntervalMs)
    const results = await Promise.all(
      clients.map((c) => ask(c, { type: 'collect', puts, waitMs: DELIVERY_WAIT_MS }, 'result')),
    )
    const serverCpu = target.cpuSeconds() - cpuBefore
    const afterPuts = target.rssBytes()
    const gone = target.exited()
    if (gone) throw new Error(`${name} exited (${gone}) during the fan-out`)
    const all = (pick: (r: FanoutClientResult) => number[]): Float64Array => {
      const xs = Float64Array.from(results.flatMap(pick))
      return xs.sort()
    }
    const putMs = Float64Array.from(puts.map((p) => (p.ackNs - p.sendNs) / 1e6)).sort()
    return {
      target: name,
      watchers,
      fromAck: percentiles(all((r) => r.fromAckMs)),
      fromSend: percentiles(all((r) => r.fromSendMs)),
      putMs: percentiles(putMs),
      missing: results.reduce((s, r) => s + r.missing, 0),
      kbPerWatcher: (withWatchers - idle) / 1024 / watchers,
      rssMb: [idle, withWatchers, afterPuts].map((b) => b / 2 ** 20) as [number, number, number],
      openMs: Math.max(...ready.map((r) => r.openMs)),
      cpuUsPerDelivery: (serverCpu * 1e6) / (watchers * puts.length),
      upstreamWatches,
    }
  } finally {
    await target.stop()
    await upstream?.stop()
  }
}

/** The watchers etcd's store holds (its etcd_debugging_mvcc_watcher_total gauge). */
async function etcdWatchers(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('etcd_debugging_mvcc_watcher_total '))
  return line ? Number(line.split(' ')[1]) : NaN
}

/** Nearest-rank p50 and p99 of sorted values. */
function percentiles(sorted: Float64Array): [number, number] {
  if (sorted.length === 0) return [NaN, NaN]
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
  return [at(0.5), at(0.99)]
}

function ask<T extends FanoutClientReply['type']>(
  child: ChildProcess,
  msg: unknown,
  want: T,
): Promise<Extract<FanoutClientReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: FanoutClientReply): void => {
      child.off('exit', onExit)
      if (reply.type === want) resolve(reply as Extract<FanoutClientReply, { type: T }>)
      else reject(new Error(`fan-out client: ${reply.type === 'failed' ? reply.error : `unexpected ${reply.type}`}`))
    }
    const onExit = (code: number | null, signal: string | null): void =>
      reject(new Error(`fan-out client exited (${signal ?? code}) before answering ${want}`))
    child.once('message', onMessage)
    child.once('exit', onExit)
    child.send(msg as object)
  })
}

/** `count` puts, one at a time on one keep-alive connection, `intervalMs` apart (start to start). */
async function putSeries(url: string, count: number, intervalMs: number): Promise<PutTiming[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const out: PutTiming[] = []
  try {
    const start = Date.now()
    for (let i = 0; i < count; i++) {
      const wait = start + i * intervalMs - Date.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      out.push(await put(url, agent, Buffer.from(`value ${i}`).toString('base64')))
    }
  } finally {
    agent.destroy()
  }
  return out
}

function put(url: string, agent: Agent, value: string): Promise<PutTiming> {
  const body = JSON.stringify({ key: KEY, value })
  return new Promise((resolve, reject) => {
    const sendNs = nowNs()
    const req = request(
      `${url}/v3/kv/put`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const ackNs = nowNs()
          const text = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode !== 200) return reject(new Error(`put: HTTP ${res.statusCode} ${text}`))
          const revision = Number((JSON.parse(text) as { header: { revision: string } }).header.revision)
          resolve({ revision, sendNs, ackNs })
        })
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('put: no response within 10 s')))
    req.on('error', reject)
    req.end(body)
  })
}

/** A cell: the medians over its runs, and the runs. */
interface Row extends Measured {
  runs: Measured[]
}

function summarizeRuns(runs: Measured[]): Row {
  const med = (pick: (m: Measured) => number): number => median(runs.map(pick))
  return {
    target: runs[0].target,
    watchers: runs[0].watchers,
    runs,
    fromAck: [med((m) => m.fromAck[0]), med((m) => m.fromAck[1])],
    fromSend: [med((m) => m.fromSend[0]), med((m) => m.fromSend[1])],
    putMs: [med((m) => m.putMs[0]), med((m) => m.putMs[1])],
    missing: runs.reduce((s, m) => s + m.missing, 0),
    kbPerWatcher: med((m) => m.kbPerWatcher),
    rssMb: [med((m) => m.rssMb[0]), med((m) => m.rssMb[1]), med((m) => m.rssMb[2])],
    openMs: med((m) => m.openMs),
    cpuUsPerDelivery: med((m) => m.cpuUsPerDelivery),
    upstreamWatches: med((m) => m.upstreamWatches),
  }
}

const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '–')
const pair = ([a, b]: [number, number]): string => `${f1(a)} / ${f1(b)}`

function fanoutTable(rows: Row[]): Table {
  return {
    header: [
      'server',
      'watchers',
      'from ack p50 / p99 ms',
      'p99 per run',
      'from send p50 / p99 ms',
      'put p50 / p99 ms',
      'missing',
      'RSS idle / watching / after puts MB',
      'KB per watcher',
      'server CPU µs per delivery',
      'open + create s',
      'watches on etcd',
    ],
    rows: rows.map((r) => [
      r.target,
      r.watchers.toLocaleString('en-US'),
      pair(r.fromAck),
      r.runs.map((m) => f1(m.fromAck[1])).join(' / '),
      pair(r.fromSend),
      pair(r.putMs),
      String(r.missing),
      r.rssMb.map(f1).join(' / '),
      f1(r.kbPerWatcher),
      f1(r.cpuUsPerDelivery),
      (r.openMs / 1000).toFixed(1),
      Number.isFinite(r.upstreamWatches) ? String(r.upstreamWatches) : '–',
    ]),
  }
}

function targetsTable(rows: Row[]): Table {
  const etcd = rows.find((r) => r.target === 'etcd')
  const gw = rows.filter((r) => r.target === 'etcdgw')
  const out: string[][] = []
  const yes = (ok: boolean): string => (ok ? 'yes' : '**no**')
  for (const r of gw) {
    if (etcd && r.watchers === etcd.watchers) {
      out.push([
        `${r.watchers.toLocaleString('en-US')} watchers: p99 ≤ etcd's`,
        `${f1(r.fromAck[1])} vs ${f1(etcd.fromAck[1])} ms`,
        yes(r.fromAck[1] <= etcd.fromAck[1]),
      ])
    }
    if (r.watchers >= 10_000) {
      out.push([`${r.watchers.toLocaleString('en-US')} watchers: p99 < 100 ms`, `${f1(r.fromAck[1])} ms`, yes(r.fromAck[1] < 100)])
    }
    out.push([`${r.watchers.toLocaleString('en-US')} watchers: ≤ 20 KB RSS per watcher`, `${f1(r.kbPerWatcher)} KB`, yes(r.kbPerWatcher <= 20)])
    out.push([`${r.watchers.toLocaleString('en-US')} watchers: no missing delivery`, String(r.missing), yes(r.missing === 0)])
  }
  for (const r of rows.filter((x) => x.target === 'etcdgw-remote')) {
    const n = r.watchers.toLocaleString('en-US')
    out.push([`remote, ${n} watchers: 1 watch on etcd`, String(r.upstreamWatches), yes(r.upstreamWatches === 1)])
    out.push([`remote, ${n} watchers: p99 from etcd's ack < 50 ms`, `${f1(r.fromAck[1])} ms`, yes(r.fromAck[1] < 50)])
    out.push([`remote, ${n} watchers: no missing delivery`, String(r.missing), yes(r.missing === 0)])
  }
  return { header: ['target', 'measured', 'met'], rows: out }
}
