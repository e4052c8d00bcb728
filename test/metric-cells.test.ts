import { Counter, Histogram, Registry } from 'prom-client'
import t from 'tap'
import { CellCounter, CellHistogram } from '../src/metric-cells.js'

const labelNames = ['route', 'code'] as const
const buckets = [0.001, 0.01, 0.1, 1]
const samples: Array<[string, string, number]> = [
  ['/a', '200', 0.0005],
  ['/a', '200', 0.001], // on a bound: counted in that bound's bucket
  ['/a', '200', 0.5],
  ['/b', '404', 3], // past the last bound: only +Inf
  ['/a', '200', 0.02],
]

/** Exposition of a registry holding prom-client's own metrics and one holding the cells, fed alike. */
async function both(feed: (own: { counter: Counter<string>; histogram: Histogram<string> }, cells: { counter: CellCounter<string>; histogram: CellHistogram<string> }) => void) {
  const ownRegistry = new Registry()
  const cellRegistry = new Registry()
  const config = (registry: Registry) => ({ help: 'h', labelNames: [...labelNames], registers: [registry] })
  const own = { counter: new Counter({ name: 'c_total', ...config(ownRegistry) }), histogram: new Histogram({ name: 'h_seconds', buckets, ...config(ownRegistry) }) }
  const cells = { counter: new CellCounter({ name: 'c_total', ...config(cellRegistry) }), histogram: new CellHistogram({ name: 'h_seconds', buckets, ...config(cellRegistry) }) }
  feed(own, cells)
  return { own: await ownRegistry.metrics(), cells: await cellRegistry.metrics(), ownJson: await ownRegistry.getMetricsAsJSON(), cellJson: await cellRegistry.getMetricsAsJSON(), ownRegistry, cellRegistry }
}

t.test('the cells expose what prom-client does for the same counts and observations', async (t) => {
  const out = await both((own, cells) => {
    own.counter.inc({ route: '/z', code: '200' }, 0) // shown at zero
    const z = cells.counter.cell({ route: '/z', code: '200' })
    const later = cells.counter.cell({ route: '/y', code: '500' }, false) // shown once counted
    t.ok(later)
    for (const [route, code, v] of samples) {
      own.counter.inc({ route, code })
      own.histogram.observe({ route, code }, v)
    }
    const a = cells.counter.cell({ route: '/a', code: '200' })
    const b = cells.counter.cell({ route: '/b', code: '404' }, false)
    for (const [route, code, v] of samples) {
      ;(route === '/a' ? a : b).inc()
      cells.histogram.cell(`${route} ${code}`, () => ({ route, code })).observe(v)
    }
    t.equal(z.pending, 0)
  })
  t.equal(out.cells, out.own, 'text exposition')
  t.same(out.cellJson, out.ownJson, 'JSON')
  t.match(out.cells, /h_seconds_bucket\{le="0.001",route="\/a",code="200"\} 2\n/)
  t.match(out.cells, /h_seconds_bucket\{le="\+Inf",route="\/b",code="404"\} 1\n/)
})

t.test('counts made after a read are added to what was read', async (t) => {
  const registry = new Registry()
  const counter = new CellCounter({ name: 'c_total', help: 'h', registers: [registry] })
  const cell = counter.cell()
  cell.inc(2)
  t.match(await registry.metrics(), /^c_total 2$/m)
  cell.inc()
  t.match(await registry.metrics(), /^c_total 3$/m)
})

t.test('a reset empties every cell and keeps them', async (t) => {
  const out = await both((own, cells) => {
    own.histogram.zero({ route: '/a', code: '200' })
    cells.histogram.cell('/a 200', () => ({ route: '/a', code: '200' })).observe(0.5)
    cells.histogram.reset()
    own.counter.reset()
  })
  t.equal(out.cells, out.own)
})
