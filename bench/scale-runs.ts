/** One target's figures from one run of the scale section, and their medians over the runs. */
import { median } from './stats.js'

export interface Latency {
  p50: number
  p99: number
}

export interface Cell {
  loadKeysPerSec: number
  stopSeconds: number
  startSeconds: number
  rssEmpty: number
  rssStarted: number
  rssProbed: number
  /** (RSS after the probes − RSS empty) ÷ keys. */
  bytesPerKey: number
  diskBytes: number
  get?: Latency
  page: Latency
  pastPage?: Latency
  countOnly?: Latency
}

/** Each figure of a cell as its median over the runs; a probe that a run did not make is left out. */
export function medianCell(runs: readonly Cell[]): Cell {
  if (runs.length === 0) throw new Error('no runs to take the median of')
  const med = (pick: (c: Cell) => number) => median(runs.map(pick))
  const latency = (pick: (c: Cell) => Latency | undefined): Latency | undefined => {
    const probed = runs.map(pick).filter((l) => l !== undefined)
    return probed.length === 0 ? undefined : { p50: median(probed.map((l) => l.p50)), p99: median(probed.map((l) => l.p99)) }
  }
  return {
    loadKeysPerSec: med((c) => c.loadKeysPerSec),
    stopSeconds: med((c) => c.stopSeconds),
    startSeconds: med((c) => c.startSeconds),
    rssEmpty: med((c) => c.rssEmpty),
    rssStarted: med((c) => c.rssStarted),
    rssProbed: med((c) => c.rssProbed),
    bytesPerKey: med((c) => c.bytesPerKey),
    diskBytes: med((c) => c.diskBytes),
    get: latency((c) => c.get),
    page: latency((c) => c.page)!,
    pastPage: latency((c) => c.pastPage),
    countOnly: latency((c) => c.countOnly),
  }
}
