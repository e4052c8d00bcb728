import { tmpdir } from 'node:os'
import { fdatasyncMs } from './disk.js'
import { runLoad } from './load.js'
import { checkTargets, summarize, type Cell, CEILING_OP } from './kv-matrix.js'
import type { OpName } from './ops.js'
import { kvTable, renderMarkdown, renderText, rssTable, targetsTable, machineFacts, loadAverage, type RssTrack } from './report.js'
import { startTarget, type Target, type TargetName } from './targets.js'

export interface KvBenchOptions {
  durationSec: number
  runs: number
  conns: number[]
  ops: OpName[]
  targets: TargetName[]
  /** Seconds of unrecorded load per (target, op) before the first run, so JIT warm-up is not measured. */
  warmupSec: number
  /** node flags for the etcdgw process (profiling). */
  etcdgwNodeArgs: string[]
}

export interface KvBenchReport {
  text: string
  markdown: string
}

/** Pause between cells so the previous cell's tail (fsyncs, GC) does not land in the next one. */
const SETTLE_MS = 500

/**
 * The KV matrix of spec §7.1: every run goes conns × op × target; ratios are formed within a run.
 * All servers stay up for the whole matrix, as they would in use (etcd and etcdgw both keep the keys put).
 */
export async function runKvBench(opts: KvBenchOptions): Promise<KvBenchReport> {
  const startedAt = new Date()
  const facts = machineFacts()
  const syncAtStart = fdatasyncMs()
  const targets: Target[] = []
  for (const name of opts.targets) {
    targets.push(await startTarget(name, name === 'etcdgw' ? { nodeArgs: opts.etcdgwNodeArgs } : {}))
    log(`started ${name} on ${targets.at(-1)!.url}`)
  }
  const rss = new Map<TargetName, RssTrack>(
    targets.map((t) => {
      const b = t.rssBytes()
      return [t.name, { target: t.name, startBytes: b, maxBytes: b, endBytes: b }]
    }),
  )
  const opsOf = (t: Target): OpName[] => (t.name === 'ceiling' ? opts.ops.filter((o) => o === CEILING_OP) : opts.ops)

  if (opts.warmupSec > 0) {
    for (const t of targets) {
      for (const op of opsOf(t)) {
        await runLoad({ url: t.url, op, connections: 10, durationSec: opts.warmupSec })
      }
    }
    log(`warmed up (${opts.warmupSec} s per target and op)`)
  }

  const cells: Cell[] = []
  for (let run = 1; run <= opts.runs; run++) {
    for (const conns of opts.conns) {
      for (const op of opts.ops) {
        for (const t of targets) {
          if (!opsOf(t).includes(op)) continue
          await sleep(SETTLE_MS)
          const cpuBefore = t.cpuSeconds()
          const startedAt = performance.now()
          const result = await runLoad({ url: t.url, op, connections: conns, durationSec: opts.durationSec })
          const gone = t.exited()
          if (gone) throw new Error(`${t.name} exited (${gone}) during ${op} at ${conns} connections`)
          const serverCores = (t.cpuSeconds() - cpuBefore) / ((performance.now() - startedAt) / 1000)
          cells.push({ run, op, conns, target: t.name, result, serverCores })
          const track = rss.get(t.name)!
          track.endBytes = t.rssBytes()
          track.maxBytes = Math.max(track.maxBytes, track.endBytes)
          log(
            `run ${run}/${opts.runs} ${op} @${conns} ${t.name}: ${Math.round(result.rps)} req/s, ` +
              `p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, ` +
              `CPU server ${serverCores.toFixed(2)} client ${result.clientCores.toFixed(2)} cores` +
              (result.errors ? `, ${result.errors} ERRORS ${JSON.stringify(result.statusCodes)}` : ''),
          )
        }
      }
    }
  }
  const loadAtEnd = loadAverage()
  const syncAtEnd = fdatasyncMs()
  for (const t of targets) await t.stop()

  const rows = summarize(cells)
  const checks = checkTargets(rows)
  const tables = { kv: kvTable(rows), targets: targetsTable(checks), rss: rssTable([...rss.values()]) }
  const params =
    `${opts.runs} run(s) × ${opts.durationSec} s cells, connections ${opts.conns.join(', ')}, ` +
    `ops ${opts.ops.join(', ')}, targets ${opts.targets.join(', ')}, warm-up ${opts.warmupSec} s`
  const text = [renderText(tables.kv), '', renderText(tables.targets), '', renderText(tables.rss)].join('\n')
  const markdown = [
    `## KV request rate: etcd's JSON gateway vs etcdgw (embedded) vs bare Fastify`,
    '',
    `Run ${startedAt.toISOString()}: ${params}.`,
    '',
    ...facts.map((f) => `- ${f}`),
    `- load average at end: ${loadAtEnd}`,
    `- disk: one 4 KiB write + fdatasync in ${tmpdir()} takes ${syncAtStart.toFixed(2)} ms (median) at start, ` +
      `${syncAtEnd.toFixed(2)} ms at end`,
    '',
    'Method (spec §7.1): autocannon in its own process, keep-alive, `POST` with a JSON body; range = key `foo` ' +
      '(3-byte value), put = random key `bench/<12 hex>` with a 16-byte value. p50/p99 are per-response ' +
      'latencies in µs resolution from autocannon\'s `response` event (medians over runs). `÷ etcd` and ' +
      '`÷ ceiling` are ratios within one run (same op and connections; the ceiling serves a fixed 219-byte ' +
      'range answer), then the median over runs. CPU columns: cores used by the server process (all its threads, ' +
      'from /proc, over the cell incl. connection set-up) and by the autocannon process. The machine has ' +
      'only 2 cores for both, so where server + client ≈ 2 the box, not the server, is the limit. ' +
      'A cell with any socket error, timeout or non-2xx is INVALID.',
    '',
    renderMarkdown(tables.kv),
    '',
    '### Targets (etcdgw embedded)',
    '',
    renderMarkdown(tables.targets),
    '',
    '### Server memory (RSS of each server process)',
    '',
    renderMarkdown(tables.rss),
  ].join('\n')
  return { text, markdown }
}

function log(msg: string): void {
  console.error(`bench: ${msg}`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
