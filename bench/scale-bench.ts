/**
 * etcd and etcdgw (`serve`, as npm start runs it) at Kubernetes scale, one after the other in one run:
 * each is loaded over HTTP with N keys (`scale/00000000` …, 256-byte values, txns of 128 puts, 8 in
 * flight), given 100 more single-key writes (so that a past revision differs from the current one),
 * restarted (SIGTERM until it exits, then until the first answered range), and probed by one sequential
 * client: point gets, pages of 100 with their count at the current revision and 100 revisions back,
 * count_only over every key. The same again at a small key count, so that point get and page latency can
 * be compared across sizes (they should stay flat). Then a cell of 1–10 KB values (as Kubernetes objects
 * are) at a smaller key count: load, restart, page. All of it `runs` times, each run on fresh data dirs in
 * fresh processes; the tables show the median of every figure over the runs (and each run's beside it).
 */
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { medianCell, type Cell, type Latency } from './scale-runs.js'
import { b64, call, closeConnections, IN_FLIGHT, keyOf, loadKeys } from './scale-keys.js'
import { percentile } from './stats.js'
import { startTarget, type Target } from './targets.js'

export interface ScaleOptions {
  /** Keys of 256 bytes. */
  keys: number
  /** Keys of 256 bytes in the run that latency at `keys` is compared with. */
  smallKeys: number
  /** Keys of 1–10 KB in the extra cell. */
  largeKeys: number
  /** Independent runs (fresh data dirs and processes each); every figure is the median over them. */
  runs: number
}

const SAMPLES = 300
const WARMUP = 30
const PAST_WRITES = 100
const PREFIX_END = b64('scale0')
/** Latency is flat across key counts when the large count's p50 is at most this many times the small one's. */
const FLAT = 1.5

interface RangeAnswer {
  header: { revision: string }
  kvs?: unknown[]
  count?: string
}

/** p50 and p99 in ms of SAMPLES sequential calls (after WARMUP unrecorded ones); `check` sees every answer. */
async function probe(url: string, body: (i: number) => object, check: (answer: RangeAnswer) => void): Promise<Latency> {
  const samples: number[] = []
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    const started = performance.now()
    const answer = await call<RangeAnswer>(url, '/v3/kv/range', body(i))
    if (i >= WARMUP) samples.push(performance.now() - started)
    check(answer)
  }
  samples.sort((a, b) => a - b)
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) }
}

/** A key spread over the key space for sample i (the same sequence for every target). */
const spread = (i: number, keys: number) => (i * 7919) % keys

function expectPage(answer: RangeAnswer): void {
  if (answer.kvs?.length !== 100 || !Number(answer.count)) throw new Error(`a page of ${answer.kvs?.length} keys, count ${answer.count}`)
}

/** Loads, rewrites, restarts and probes one target; stops it. */
async function measure(target: Target, keys: number, batch: number, valueOf: (i: number) => string, full: boolean): Promise<Cell> {
  try {
    const rssEmpty = target.rssBytes()
    const loadSeconds = await loadKeys(target.url, keys, batch, valueOf)
    let past = 0
    for (let i = 0; i < PAST_WRITES; i++) {
      const put = await call<RangeAnswer>(target.url, '/v3/kv/put', { key: b64(keyOf(spread(i, keys))), value: valueOf(i) })
      if (i === 0) past = Number(put.header.revision) - 1
    }
    const { stopSeconds, startSeconds } = await target.restart()
    const rssStarted = target.rssBytes()
    const pageAt = (revision: number) => (i: number) => ({
      key: b64(keyOf(spread(i, keys - 100))),
      range_end: PREFIX_END,
      limit: 100,
      ...(revision > 0 ? { revision } : {}),
    })
    const page = await probe(target.url, pageAt(0), expectPage)
    const cell: Cell = { loadKeysPerSec: keys / loadSeconds, stopSeconds, startSeconds, rssEmpty, rssStarted, rssProbed: 0, bytesPerKey: 0, diskBytes: 0, page }
    if (full) {
      cell.get = await probe(target.url, (i) => ({ key: b64(keyOf(spread(i, keys))) }), (a) => {
        if (a.kvs?.length !== 1) throw new Error('a point get found nothing')
      })
      cell.pastPage = await probe(target.url, pageAt(past), expectPage)
      cell.countOnly = await probe(target.url, () => ({ key: b64('scale/'), range_end: PREFIX_END, count_only: true }), (a) => {
        if (Number(a.count) !== keys) throw new Error(`count_only counted ${a.count} of ${keys}`)
      })
    }
    cell.rssProbed = target.rssBytes()
    cell.bytesPerKey = (cell.rssProbed - rssEmpty) / keys
    cell.diskBytes = target.diskBytes()
    return cell
  } finally {
    await target.stop()
  }
}

const MB = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1)
const pair = (p?: Latency) => (p ? `${ms(p.p50)} / ${ms(p.p99)}` : '–')
const n = (k: number) => k.toLocaleString('en-US')
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–')

/** etcd's and etcdgw's cells, side by side. */
interface Both<T> {
  etcd: T
  etcdgw: T
}

/** A row: how the median cell shows, the number compared (and listed per run), and how one run's number shows. */
interface Figure {
  what: string
  show: (c: Cell) => string
  value: (c: Cell) => number
  format: (x: number) => string
}

const scalar = (what: string, value: (c: Cell) => number, format: (x: number) => string): Figure => ({ what, show: (c) => format(value(c)), value, format })
const latency = (what: string, pick: (c: Cell) => Latency | undefined): Figure => ({
  what: `${what} p50 / p99, ms`,
  show: (c) => pair(pick(c)),
  value: (c) => pick(c)?.p50 ?? NaN,
  format: ms,
})

/** Medians of every figure, etcdgw's over etcd's, and (with more than one run) each run's figure, p50 for latencies. */
function table(runs: Both<Cell[]>): Table {
  const med = { etcd: medianCell(runs.etcd), etcdgw: medianCell(runs.etcdgw) }
  const perRun = runs.etcd.length > 1
  const figures = [
    scalar('load, keys/s', (c) => c.loadKeysPerSec, (x) => n(Math.round(x))),
    scalar('stop (SIGTERM until exit), s', (c) => c.stopSeconds, (x) => x.toFixed(2)),
    scalar('restart until the first answered range, s', (c) => c.startSeconds, (x) => x.toFixed(2)),
    scalar('RSS at the first answer, MB', (c) => c.rssStarted, MB),
    scalar('RSS after the probes, MB', (c) => c.rssProbed, MB),
    scalar('memory per key (RSS after the probes − RSS empty) ÷ keys, bytes', (c) => c.bytesPerKey, (x) => x.toFixed(0)),
    latency('point get', (c) => c.get),
    latency('page of 100 with its count, current revision,', (c) => c.page),
    latency(`page of 100 with its count, ${PAST_WRITES} revisions back,`, (c) => c.pastPage),
    latency('count_only over every key', (c) => c.countOnly),
    scalar('data dir (and log) on disk, MB', (c) => c.diskBytes, MB),
  ]
  const rows = figures
    .filter((f) => Number.isFinite(f.value(med.etcd)) || Number.isFinite(f.value(med.etcdgw)))
    .map((f) => [
      f.what,
      f.show(med.etcd),
      f.show(med.etcdgw),
      ratio(f.value(med.etcdgw), f.value(med.etcd)),
      ...(perRun ? [runs.etcd, runs.etcdgw].map((cells) => cells.map((c) => f.format(f.value(c))).join(' / ')) : []),
    ])
  return { header: ['', 'etcd', 'etcdgw', 'etcdgw ÷ etcd', ...(perRun ? ['etcd per run', 'etcdgw per run'] : [])], rows }
}

/** Latency p50 (medians over the runs) at the small and the large key count, and their ratio, per target: flat means ≤ FLAT. */
function flatTable(smallKeys: number, keys: number, small: Both<Cell[]>, large: Both<Cell[]>): Table {
  const probes: [string, (c: Cell) => number][] = [
    ['point get p50, ms', (c) => c.get?.p50 ?? NaN],
    ['page of 100 with its count, current revision, p50, ms', (c) => c.page.p50],
    [`page of 100 with its count, ${PAST_WRITES} revisions back, p50, ms`, (c) => c.pastPage?.p50 ?? NaN],
  ]
  const cells = (target: keyof Both<Cell>, p50: (c: Cell) => number) => {
    const [atSmall, atLarge] = [p50(medianCell(small[target])), p50(medianCell(large[target]))]
    const shown = ratio(atLarge, atSmall)
    return [ms(atSmall), ms(atLarge), parseFloat(shown) > FLAT ? `${shown} (not flat)` : shown]
  }
  return {
    header: ['', `etcd ${n(smallKeys)}`, `etcd ${n(keys)}`, 'etcd ÷', `etcdgw ${n(smallKeys)}`, `etcdgw ${n(keys)}`, 'etcdgw ÷'],
    rows: probes.map(([what, p50]) => [what, ...cells('etcd', p50), ...cells('etcdgw', p50)]),
  }
}

/** Both targets, one after the other, each on a fresh data dir in a fresh process; the cells join the runs before. */
async function sideBySide(runs: Both<Cell[]>, keys: number, batch: number, valueOf: (i: number) => string, full: boolean): Promise<void> {
  runs.etcd.push(await measure(await startTarget('etcd'), keys, batch, valueOf, full))
  runs.etcdgw.push(await measure(await startTarget('etcdgw'), keys, batch, valueOf, full))
}

const log = (s: string): void => console.error(`bench: ${s}`)

export async function runScaleBench(opts: ScaleOptions): Promise<{ text: string; markdown: string }> {
  const started = Date.now()
  const facts = machineFacts()
  const small = b64(Buffer.alloc(256, 'v'))
  // 1–10 KB values; txns of 32 puts keep a request under etcd's 1.5 MiB limit
  const large = Array.from({ length: 10 }, (_, i) => b64(Buffer.alloc(1024 * (i + 1), 'w')))
  const fresh = (): Both<Cell[]> => ({ etcd: [], etcdgw: [] })
  const [main, few, big] = [fresh(), fresh(), fresh()]
  for (let run = 1; run <= opts.runs; run++) {
    await sideBySide(main, opts.keys, 128, () => small, true)
    await sideBySide(few, opts.smallKeys, 128, () => small, true)
    await sideBySide(big, opts.largeKeys, 32, (i) => large[i % large.length]!, false)
    const [etcd, etcdgw] = [main.etcd.at(-1)!, main.etcdgw.at(-1)!]
    log(
      `scale run ${run} of ${opts.runs}: restart ${etcd.startSeconds.toFixed(2)} / ${etcdgw.startSeconds.toFixed(2)} s, ` +
        `page p50 ${ms(etcd.page.p50)} / ${ms(etcdgw.page.p50)} ms (etcd / etcdgw; load ${loadAverage()})`,
    )
  }
  closeConnections()
  facts.push(`load average at end: ${loadAverage()}; the section took ${((Date.now() - started) / 1000).toFixed(0)} s`)
  const mainTable = table(main)
  const bigTable = table(big)
  const flat = flatTable(opts.smallKeys, opts.keys, few, main)
  const summary =
    `runs: ${opts.runs}; each loads, restarts and probes both targets on fresh data dirs in fresh processes; ` +
    `every figure is the median over the runs${opts.runs > 1 ? ', and the per-run columns list each run (p50 for latencies)' : ''}.`
  const mainTitle = `${n(opts.keys)} keys of 256 bytes (txns of 128 puts, ${IN_FLIGHT} in flight; ${SAMPLES} sequential samples per probe)`
  const flatTitle = `Latency at ${n(opts.smallKeys)} and at ${n(opts.keys)} keys (the same load and probes at both sizes; flat: the larger size's median p50 at most ${FLAT}× the smaller's)`
  const bigTitle = `${n(opts.largeKeys)} keys of 1–10 KB (txns of 32 puts, ${IN_FLIGHT} in flight)`
  const heading = `## Scale: etcd and etcdgw side by side\n\nRun ${new Date().toISOString()}: ${summary}\n\n${facts.map((f) => `- ${f}`).join('\n')}`
  return {
    text: `${summary}\n${facts.join('\n')}\n\n${mainTitle}\n${renderText(mainTable)}\n\n${flatTitle}\n${renderText(flat)}\n\n${bigTitle}\n${renderText(bigTable)}`,
    markdown: `${heading}\n\n${mainTitle}:\n\n${renderMarkdown(mainTable)}\n\n${flatTitle}:\n\n${renderMarkdown(flat)}\n\n${bigTitle}:\n\n${renderMarkdown(bigTable)}\n`,
  }
}
