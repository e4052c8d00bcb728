import { runLoad } from './load.js'
import { summarize, type Cell, type Row, type TargetCheck } from './kv-matrix.js'
import type { OpName } from './ops.js'
import { kvTable, loadAverage, machineFacts, renderMarkdown, renderText, targetsTable, type Table } from './report.js'
import { median } from './stats.js'
import { startTarget, type Target } from './targets.js'

export interface RemoteBenchOptions {
  durationSec: number
  runs: number
  conns: number[]
  warmupSec: number
  /** node flags for the etcdgw process (profiling). */
  etcdgwNodeArgs: string[]
  /** Keys (256-byte values) in etcd for the replica's load cell; 0 = no such cell. */
  replicaKeys: number
}

/** range-serializable is answered from the member's store; range (linearizable) waits for a ReadIndex round. */
const REMOTE_OPS: OpName[] = ['range-serializable', 'range', 'put']
/** etcdgw-remote ÷ etcd's gateway, per op: reads are answered from etcdgw's replica, writes still go through etcd. */
const GOALS: Record<string, number> = { 'range-serializable': 3, range: 2, put: 0.8 }
/** The replica must load this many keys within LOAD_GOAL_S. */
const LOAD_GOAL_S = 20
const VALUE_BYTES = 256
/** Puts per txn while filling etcd for the load cell (etcd's default --max-txn-ops). */
const FILL_BATCH = 128
const SETTLE_MS = 500

/**
 * The remote section: one etcd member, its own JSON gateway vs etcdgw in front of it over gRPC. Both
 * share the member, so every etcdgw-remote cell also costs etcd CPU; its cores are recorded per cell.
 */
export async function runRemoteBench(opts: RemoteBenchOptions): Promise<{ text: string; markdown: string }> {
  const startedAt = new Date()
  const facts = machineFacts()
  const etcd = await startTarget('etcd')
  const ours = await startTarget('etcdgw-remote', { upstream: etcd.url, nodeArgs: opts.etcdgwNodeArgs })
  log(`etcd on ${etcd.url}, etcdgw in front of it on ${ours.url}`)
  const targets = [etcd, ours]
  if (opts.warmupSec > 0) {
    for (const t of targets) for (const op of REMOTE_OPS) await runLoad({ url: t.url, op, connections: 10, durationSec: opts.warmupSec })
    log(`warmed up (${opts.warmupSec} s per target and op)`)
  }
  const cells: Cell[] = []
  const upstreamCores = new Map<string, number[]>()
  try {
    for (let run = 1; run <= opts.runs; run++) {
      for (const conns of opts.conns) {
        for (const op of REMOTE_OPS) {
          for (const t of targets) {
            await new Promise((r) => setTimeout(r, SETTLE_MS))
            const cpu = targets.map((x) => x.cpuSeconds())
            const started = performance.now()
            const result = await runLoad({ url: t.url, op, connections: conns, durationSec: opts.durationSec })
            const seconds = (performance.now() - started) / 1000
            for (const x of targets) {
              const gone = x.exited()
              if (gone) throw new Error(`${x.name} exited (${gone}) during ${op} at ${conns} connections on ${t.name}`)
            }
            const [etcdCores, oursCores] = targets.map((x, i) => (x.cpuSeconds() - cpu[i]!) / seconds) as [number, number]
            cells.push({ run, op, conns, target: t.name, result, serverCores: t === etcd ? etcdCores : oursCores })
            if (t === ours) upstreamCores.set(`${op}|${conns}`, [...(upstreamCores.get(`${op}|${conns}`) ?? []), etcdCores])
            log(
              `run ${run}/${opts.runs} ${op} @${conns} ${t.name}: ${Math.round(result.rps)} req/s, ` +
                `p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, CPU etcd ${etcdCores.toFixed(2)}` +
                `${t === ours ? ` etcdgw ${oursCores.toFixed(2)}` : ''} client ${result.clientCores.toFixed(2)} cores` +
                (result.errors ? `, ${result.errors} ERRORS ${JSON.stringify(result.statusCodes)}` : ''),
            )
          }
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t: Target) => t.stop()))
  }
  const rows = summarize(cells)
  const table = withUpstreamCores(kvTable(rows), rows, upstreamCores)
  const load = opts.replicaKeys > 0 ? await replicaLoadCell(opts.replicaKeys) : undefined
  const checks = targetsTable([...checkRemote(rows, opts.conns), ...(load ? [load.check] : [])])
  const params = `${opts.runs} run(s) × ${opts.durationSec} s cells, connections ${opts.conns.join(', ')}, warm-up ${opts.warmupSec} s`
  const markdown = [
    `## Remote mode: etcd's own JSON gateway vs etcdgw in front of the same etcd member`,
    '',
    `Run ${startedAt.toISOString()}: ${params}.`,
    '',
    ...facts.map((f) => `- ${f}`),
    `- load average at end: ${loadAverage()}`,
    '',
    'Method: as the KV section (autocannon in its own process, keep-alive, JSON POSTs; put = fresh random ' +
      'key), against one 1-node etcd (default raft timing) reached directly on its client URL (its gateway) ' +
      'or through `etcdgw serve --endpoints <that URL>` (two HTTP/2 gRPC connections to it: unary calls, streams). ' +
      '`range-serializable` sets `serializable: true`; `range` is linearizable. `CPU server` is the ' +
      'process answering HTTP; `CPU etcd` is the member\'s CPU over the cell (for etcd\'s own rows, the same ' +
      'process). Everything (client, etcdgw, etcd) shares the 2 cores.',
    '',
    renderMarkdown(table),
    '',
    ...(load ? [load.text, ''] : []),
    `### Targets: etcdgw-remote vs etcd's gateway (range-serializable ≥ ${GOALS['range-serializable']}×, range ≥ ${GOALS.range}×, put ≥ ${GOALS.put}×)` +
      (load ? `, the replica's load of ${opts.replicaKeys.toLocaleString('en-US')} keys < ${LOAD_GOAL_S} s` : ''),
    '',
    renderMarkdown(checks),
  ].join('\n')
  const text = [renderText(table), ...(load ? ['', load.text] : []), '', renderText(checks)].join('\n')
  return { text, markdown }
}

/** The KV table without its ceiling column (no ceiling here), plus the member's CPU per row. */
function withUpstreamCores(table: Table, rows: readonly Row[], upstream: Map<string, number[]>): Table {
  const ceiling = table.header.indexOf('÷ ceiling')
  const without = (cells: string[]) => cells.filter((_, i) => i !== ceiling)
  return {
    header: [...without(table.header), 'CPU etcd', 'etcd CPU µs per request'],
    rows: table.rows.map((cells, i) => {
      const r = rows[i]!
      const cores = r.target === 'etcd' ? r.serverCores : median(upstream.get(`${r.op}|${r.conns}`) ?? [NaN])
      const perRequest = (cores / r.rpsMedian) * 1e6
      return [...without(cells), Number.isFinite(cores) ? cores.toFixed(2) : '–', Number.isFinite(perRequest) ? perRequest.toFixed(0) : '–']
    }),
  }
}

function checkRemote(rows: readonly Row[], conns: number[]): TargetCheck[] {
  return [10, 50].filter((c) => conns.includes(c)).flatMap((c) =>
    REMOTE_OPS.map((op) => {
      const r = rows.find((x) => x.op === op && x.conns === c && x.target === 'etcdgw-remote')
      const v = r?.vsEtcd ?? NaN
      const goal = GOALS[op]!
      return { goal: `${op} @${c} conns ≥ ${goal}× etcd`, value: v, met: Number.isFinite(v) && r?.errors === 0 ? v >= goal : undefined }
    }),
  )
}

/**
 * The replica's start: etcd filled with `keys` keys of 256-byte values, then etcdgw started in front of it;
 * the time until it answers (its load) and its memory per key: its RSS then, less that of an etcdgw
 * started in front of the same etcd while it was empty.
 */
async function replicaLoadCell(keys: number): Promise<{ text: string; check: TargetCheck }> {
  const etcd = await startTarget('etcd')
  try {
    const empty = await startTarget('etcdgw-remote', { upstream: etcd.url })
    const emptyRss = empty.rssBytes()
    await empty.stop()
    const value = Buffer.alloc(VALUE_BYTES, 'v').toString('base64')
    for (let i = 0; i < keys; i += FILL_BATCH) {
      const success = Array.from({ length: Math.min(FILL_BATCH, keys - i) }, (_, j) => ({
        request_put: { key: Buffer.from(`/registry/pods/ns-${(i + j) % 100}/pod-${i + j}`).toString('base64'), value },
      }))
      const res = await fetch(`${etcd.url}/v3/kv/txn`, { method: 'POST', body: JSON.stringify({ success }) })
      if (res.status !== 200) throw new Error(`filling etcd: HTTP ${res.status} ${await res.text()}`)
    }
    log(`etcd holds ${keys} keys`)
    const started = performance.now()
    const ours = await startTarget('etcdgw-remote', { upstream: etcd.url })
    const seconds = (performance.now() - started) / 1000
    const rss = ours.rssBytes()
    await ours.stop()
    const text =
      `Replica load: ${keys.toLocaleString('en-US')} keys of ${VALUE_BYTES}-byte values (30-byte keys) in ${seconds.toFixed(1)} s ` +
      `from start to the first answer; etcdgw RSS then ${(rss / 2 ** 20).toFixed(0)} MB, ${(emptyRss / 2 ** 20).toFixed(0)} MB in front of ` +
      `the empty etcd: ${((rss - emptyRss) / keys).toFixed(0)} bytes per key.`
    log(text)
    const share = seconds / LOAD_GOAL_S
    return { text, check: { goal: `replica load of ${keys} keys < ${LOAD_GOAL_S} s (load time ÷ ${LOAD_GOAL_S} s)`, value: share, met: share < 1 } }
  } finally {
    await etcd.stop()
  }
}

function log(msg: string): void {
  console.error(`bench: ${msg}`)
}
