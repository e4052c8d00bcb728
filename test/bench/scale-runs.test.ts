import t from 'tap'
import { medianCell, type Cell } from '../../bench/scale-runs.js'

/** A cell whose every figure is `x` (latencies: p50 x, p99 10x); `probes` adds the probes of a full cell. */
function cell(x: number, probes: boolean): Cell {
  const latency = { p50: x, p99: 10 * x }
  const base: Cell = {
    loadKeysPerSec: x,
    stopSeconds: x,
    startSeconds: x,
    rssEmpty: x,
    rssStarted: x,
    rssProbed: x,
    bytesPerKey: x,
    diskBytes: x,
    page: latency,
  }
  return probes ? { ...base, get: latency, pastPage: latency, countOnly: latency } : base
}

t.test('every figure is the median of the runs, taken figure by figure', async (t) => {
  const runs = [cell(3, true), cell(1, true), cell(2, true)]
  t.same(medianCell(runs), cell(2, true))
  // figures taken separately: a run that is slowest in one figure need not be the median's run in another
  const mixed = { ...cell(1, true), startSeconds: 9, page: { p50: 9, p99: 1 } }
  const m = medianCell([mixed, cell(2, true), cell(3, true)])
  t.equal(m.loadKeysPerSec, 2)
  t.equal(m.startSeconds, 3)
  t.same(m.page, { p50: 3, p99: 20 })
})

t.test('an even number of runs gives the mean of the middle two', async (t) => {
  t.same(medianCell([cell(1, true), cell(4, true)]), cell(2.5, true))
})

t.test('a probe that no run made stays absent', async (t) => {
  const m = medianCell([cell(1, false), cell(5, false)])
  t.equal(m.get, undefined)
  t.equal(m.pastPage, undefined)
  t.equal(m.countOnly, undefined)
  t.same(m.page, { p50: 3, p99: 30 })
})

t.test('no runs is an error, not a cell of NaN', async (t) => {
  t.throws(() => medianCell([]))
})
