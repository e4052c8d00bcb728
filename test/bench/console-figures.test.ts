import t from 'tap'
import { checkConsole, spreadOf } from '../../bench/console-figures.js'

t.test('median, 95th percentile and maximum of the samples, in any order', async (t) => {
  t.same(spreadOf([5, 1, 4, 2, 3]), { median: 3, p95: 5, max: 5, count: 5 })
  // 40 pages: the 95th percentile is the second slowest
  const pages = Array.from({ length: 40 }, (_, i) => 40 - i)
  t.same(spreadOf(pages), { median: 20.5, p95: 39, max: 40, count: 40 })
})

t.test('no sample gives NaN and a count of 0, not a figure', async (t) => {
  t.same(spreadOf([]), { median: NaN, p95: NaN, max: NaN, count: 0 })
  t.same(spreadOf([NaN]), { median: NaN, p95: NaN, max: NaN, count: 0 })
})

t.test('a target holds only when every sample is under its bound: the slowest decides', async (t) => {
  const fast = { firstPage: [80, 120], nextPage: Array.from({ length: 40 }, () => 40), watch: [8, 9, 10] }
  t.same(checkConsole(fast).map((c) => [c.goal, c.met]), [
    ['first page shown < 1000 ms', true],
    ['every next page shown < 300 ms', true],
    ['a put shown by a watch < 1000 ms', true],
  ])
  // one slow page in forty misses the target though the median and p95 are far under it
  const oneSlow = { ...fast, nextPage: [...fast.nextPage.slice(1), 300], watch: [1000] }
  const [, next, watch] = checkConsole(oneSlow)
  t.equal(next!.met, false)
  t.equal(next!.spread.p95, 40)
  t.equal(watch!.met, false, 'exactly at the bound is not under it')
})

t.test('a figure with no sample is not measured, neither met nor missed', async (t) => {
  t.same(checkConsole({ firstPage: [], nextPage: [], watch: [] }).map((c) => c.met), [undefined, undefined, undefined])
})
