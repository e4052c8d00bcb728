import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { runConsoleBench } from './console-bench.js'
import { runKvBench } from './kv-bench.js'
import { runFanoutBench } from './watch-fanout.js'
import { runHostileBench } from './hostile-clients.js'
import { isOpName, KV_OPS } from './ops.js'
import { killAllOnExit } from './processes.js'
import { runRemoteBench } from './remote-bench.js'
import { runScaleBench } from './scale-bench.js'
import { runSnapshotBench } from './snapshot-bench.js'
import { updateResults } from './report.js'
import { TARGET_NAMES, type TargetName } from './targets.js'

const USAGE = `npm run bench -- [options]
  --duration S      seconds per cell (10)
  --runs N          runs; medians over them (3; the KV matrix, remote, fan-out and scale sections; each scale
                    run loads, restarts and probes both targets afresh)
  --conns 1,10,50   connection counts
  --only range|put|fanout|snapshot|hostile|scale|console
                    one KV op only, the watch fan-out (spec §7.3), snapshot save and restore beside
                    etcdctl, hostile clients, etcd and etcdgw loaded with many keys (restart, memory,
                    gets, pages, counts), or the web console in Chromium over many keys (first page,
                    next pages, a put shown by a watch; etcdgw's store, then etcd behind etcdgw),
                    instead of the KV matrix
  --keys N          snapshot: keys in the store; --remote: keys the replica loads (0: no load cell);
                    scale, console: keys loaded; 256-byte values (1000000)
  --small-keys N    scale: keys of the run whose get and page latency is compared with --keys' (10000)
  --large-keys N    scale: keys of 1–10 KB in the extra cell (50000)
  --seconds S       hostile clients: how long each flood lasts (20)
  --loads TEXT,...  hostile clients: only the loads whose name contains one of these (e.g. paused,snapshot)
  --watchers 1000,10000
                    fan-out: WebSocket watchers on etcdgw (etcd runs at the smallest count)
  --puts N          fan-out: puts, 100 ms apart (100)
  --remote          the remote section instead: etcd's gateway vs etcdgw in front of that etcd
                    (ops range-serializable, range, put; --only and --targets do not apply)
  --targets LIST    subset of ${TARGET_NAMES.join(',')} (--only fanout: also etcdgw-remote, watchers on etcdgw in front of
                    an etcd that takes the puts)
  --warmup S        unrecorded load per target and op before run 1 (2; 0 = none)
  --profile DIR     run etcdgw under node --cpu-prof, profile written to DIR when it stops
  --no-write        print only; leave bench/RESULTS.md alone`

const RESULTS = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url))

function list<T extends string>(value: string, allowed: (s: string) => s is T, what: string): T[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean)
  for (const s of items) if (!allowed(s)) throw new Error(`unknown ${what}: ${s}`)
  return items as T[]
}

function positive(value: string, what: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${what} must be a positive number, got ${value}`)
  return n
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      runs: { type: 'string', default: '3' },
      conns: { type: 'string', default: '1,10,50' },
      only: { type: 'string' },
      targets: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      watchers: { type: 'string', default: '1000,10000' },
      puts: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '20' },
      loads: { type: 'string' },
      keys: { type: 'string', default: '1000000' },
      'small-keys': { type: 'string', default: '10000' },
      'large-keys': { type: 'string', default: '50000' },
      profile: { type: 'string' },
      remote: { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return
  }
  killAllOnExit()
  const etcdgwNodeArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []
  /** Prints a section's report and writes it into bench/RESULTS.md, unless --no-write. */
  const publish = (section: string, report: { text: string; markdown: string }) => {
    console.log(report.text)
    if (values['no-write']) return
    updateResults(RESULTS, section, report.markdown)
    console.error(`bench: wrote ${RESULTS}`)
  }
  // etcdgw-remote is a fan-out target too (the KV matrix has its own remote section)
  const targetNames: readonly string[] = values.only === 'fanout' ? [...TARGET_NAMES, 'etcdgw-remote'] : TARGET_NAMES
  const targets = list(values.targets ?? targetNames.join(','), (s): s is TargetName => targetNames.includes(s), 'target')
  if (values.only === 'snapshot') {
    const report = await runSnapshotBench({ keys: Math.round(positive(values.keys, '--keys')) })
    publish('snapshot', report)
    return
  }
  if (values.only === 'scale') {
    const report = await runScaleBench({
      keys: Math.round(positive(values.keys, '--keys')),
      smallKeys: Math.round(positive(values['small-keys'], '--small-keys')),
      largeKeys: Math.round(positive(values['large-keys'], '--large-keys')),
      runs: Math.round(positive(values.runs, '--runs')),
    })
    publish('scale', report)
    return
  }
  if (values.only === 'console') {
    publish('console', await runConsoleBench({ keys: Math.round(positive(values.keys, '--keys')) }))
    return
  }
  if (values.only === 'hostile') {
    const report = await runHostileBench({
      targets: targets.filter((t) => t === 'etcd' || t === 'etcdgw'),
      seconds: positive(values.seconds, '--seconds'),
      loads: values.loads?.split(',').map((s) => s.trim()).filter(Boolean),
      etcdgwNodeArgs,
    })
    publish('hostile', report)
    return
  }
  if (values.only === 'fanout') {
    const report = await runFanoutBench({
      watchers: values.watchers.split(',').map((w) => Math.round(positive(w, '--watchers'))),
      puts: Math.round(positive(values.puts, '--puts')),
      putIntervalMs: 100,
      runs: Math.round(positive(values.runs, '--runs')),
      targets,
      etcdgwNodeArgs,
    })
    publish('fanout', report)
    return
  }
  const common = {
    durationSec: positive(values.duration, '--duration'),
    runs: Math.round(positive(values.runs, '--runs')),
    conns: values.conns.split(',').map((c) => Math.round(positive(c, '--conns'))),
    warmupSec: Number(values.warmup),
    etcdgwNodeArgs,
  }
  const section = values.remote ? 'remote' : 'kv'
  const report = values.remote ? await runRemoteBench({ ...common, replicaKeys: Math.round(Number(values.keys)) }) : await runKvBench({
    ...common,
    ops: values.only ? list(values.only, isOpName, 'op') : KV_OPS,
    targets,
  })
  publish(section, report)
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1) // the exit handler kills every server and load process
})
