/**
 * The web console's speed targets, measured in the system's Chromium (puppeteer-core, the page driven with
 * the browser tests' steps) with the console served by etcdgw at /ui/ and N keys under one prefix
 * (`scale/…`, 256-byte values, loaded as the scale section loads them):
 * - first page: from Enter on the prefix in the search box to its first 100 keys shown, FIRST_PAGES
 *   times, each in a freshly loaded console;
 * - next pages: from a click on Next to the next 100 keys shown, NEXT_PAGES pages in a row (each page's
 *   keys checked after its time is taken);
 * - watch: from a put sent over HTTP to its row shown in the Watch view, WATCH_PUTS puts one at a time.
 * The same console in front of three stores, one after the other: etcdgw's embedded store; real etcd with
 * the same keys behind `etcdgw serve --endpoints` with --replica=false (etcd answers every range the
 * console sends, and counts each range's keys one by one); the same etcd behind etcdgw's read replica
 * (remote mode as it starts by default).
 */
import { loadavg } from 'node:os'
import type { Browser } from 'puppeteer-core'
import { chromiumMissing, launchBrowser, openPage } from '../test/helpers/browser.js'
import { chooseFlat, firstEntryShown, newestEventShown, nextPage, shownEntries, typeSearch, watchPrefix } from '../test/helpers/console-page.js'
import { checkConsole, spreadOf, type ConsoleSamples, type Spread } from './console-figures.js'
import { track } from './processes.js'
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { b64, call, closeConnections, KEY_PREFIX, keyOf, loadKeys } from './scale-keys.js'
import { startTarget, type Target } from './targets.js'

export interface ConsoleOptions {
  /** Keys under the prefix the console pages through. */
  keys: number
}

const FIRST_PAGES = 5
const NEXT_PAGES = 40
const WATCH_PUTS = 20
const PAGE_SIZE = 100
const BATCH = 128
const VALUE = b64(Buffer.alloc(256, 'v'))
const WATCHED = 'console-watch/'
/** A 1-minute load average above this: others use the machine, and the figures say so. */
const SHARED_LOAD = 1.5

/** The store behind the console, as the tables name it; the first measured, which the others are compared with. */
const EMBEDDED = 'embedded store'
const REMOTES: readonly { name: string; serveFlags: string[] }[] = [
  { name: 'etcd, --replica=false', serveFlags: ['--replica=false'] },
  { name: 'etcd, replica', serveFlags: [] },
]

interface Front {
  name: string
  samples: ConsoleSamples
}

const log = (s: string): void => console.error(`bench: ${s}`)

export async function runConsoleBench(opts: ConsoleOptions): Promise<{ text: string; markdown: string }> {
  const least = (NEXT_PAGES + 1) * PAGE_SIZE
  if (opts.keys < least) throw new Error(`the console section pages through ${least} keys: --keys must be at least that`)
  const missing = chromiumMissing()
  if (missing) throw new Error(missing)
  const startedAt = new Date()
  const facts = machineFacts()
  const loads = [loadavg()[0]!]
  const browser = await launchBrowser()
  const chromium = browser.process()
  if (chromium) track(chromium)
  const fronts: Front[] = []
  const load = async (t: Target) => {
    const seconds = await loadKeys(t.url, opts.keys, BATCH, () => VALUE)
    log(`${t.name} holds ${opts.keys} keys (loaded in ${seconds.toFixed(1)} s; load ${loadAverage()})`)
  }
  const measured = async (name: string, t: Target) => {
    const samples = await measure(browser, t.url)
    fronts.push({ name, samples })
    const [first, next, watch] = [samples.firstPage, samples.nextPage, samples.watch].map((s) => ms(spreadOf(s).median))
    log(`console over ${name}: first page ${first} ms, next page ${next} ms, watch ${watch} ms (medians; load ${loadAverage()})`)
  }
  try {
    await stopping(await startTarget('etcdgw'), async (gw) => {
      await load(gw)
      await measured(EMBEDDED, gw)
    })
    await stopping(await startTarget('etcd'), async (etcd) => {
      await load(etcd)
      for (const remote of REMOTES) {
        const gw = await startTarget('etcdgw-remote', { upstream: etcd.url, serveFlags: remote.serveFlags })
        await stopping(gw, () => measured(remote.name, gw))
      }
    })
  } finally {
    await browser.close()
    closeConnections()
  }
  loads.push(loadavg()[0]!)
  facts.push(`load average at end: ${loadAverage()}; the section took ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`)
  if (Math.max(...loads) > SHARED_LOAD) facts.push(`figures from a shared machine (1-minute load average above ${SHARED_LOAD}): other work competed for the 2 cores, so take them as rough`)
  return report(startedAt, facts, opts.keys, fronts)
}

async function stopping(target: Target, use: (t: Target) => Promise<void>): Promise<void> {
  try {
    await use(target)
  } finally {
    await target.stop()
  }
}

/** The three measurements in one page of the console at `url`; any error the page reports fails the section. */
async function measure(browser: Browser, url: string): Promise<ConsoleSamples> {
  const { page, problems } = await openPage(browser)
  const samples: ConsoleSamples = { firstPage: [], nextPage: [], watch: [] }
  try {
    for (let i = 0; i < FIRST_PAGES; i++) {
      await page.goto('about:blank')
      await page.goto(`${url}/ui/#/keys`)
      await page.waitForSelector('#key-search')
      await chooseFlat(page)
      // the flat list of every key, which the layout's change reads, is shown before the search is sent
      await page.waitForFunction(() => document.querySelector('.key-list .summary')?.textContent?.startsWith('Keys '))
      await typeSearch(page, KEY_PREFIX)
      const started = performance.now()
      await page.keyboard.press('Enter')
      await firstEntryShown(page, keyOf(0))
      samples.firstPage.push(performance.now() - started)
      expectKeys(await shownEntries(page), 0)
    }
    for (let p = 1; p <= NEXT_PAGES; p++) {
      const started = performance.now()
      await nextPage(page)
      await firstEntryShown(page, keyOf(p * PAGE_SIZE))
      samples.nextPage.push(performance.now() - started)
      expectKeys(await shownEntries(page), p)
    }
    await watchPrefix(page, url, WATCHED)
    for (let i = 0; i < WATCH_PUTS; i++) {
      const key = `${WATCHED}${i}`
      const shown = newestEventShown(page, key)
      const started = performance.now()
      await call(url, '/v3/kv/put', { key: b64(key), value: VALUE })
      await shown
      samples.watch.push(performance.now() - started)
    }
    if (problems.list.length > 0) throw new Error(`the console reported errors:\n${problems.list.join('\n')}`)
    return samples
  } finally {
    await page.close()
  }
}

/** Page `p` (from 0) shows keys p×100 … p×100+99, in order. */
function expectKeys(shown: string[], p: number): void {
  const want = Array.from({ length: PAGE_SIZE }, (_, i) => keyOf(p * PAGE_SIZE + i))
  if (shown.join() !== want.join()) throw new Error(`page ${p + 1} shows ${shown.length} keys from ${shown[0]} to ${shown.at(-1)}, not ${want[0]} … ${want.at(-1)}`)
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 1 : 0) : '–')
const spreadText = (s: Spread): string => `${ms(s.median)} / ${ms(s.p95)} / ${ms(s.max)}`
const ratio = (a: number, b: number): string => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–')

function figuresTable(fronts: readonly Front[]): Table {
  const figures: [string, (s: ConsoleSamples) => number[]][] = [
    [`first page, ${FIRST_PAGES} fresh consoles`, (s) => s.firstPage],
    [`next page, ${NEXT_PAGES} in a row`, (s) => s.nextPage],
    [`a put shown by a watch, ${WATCH_PUTS} puts`, (s) => s.watch],
  ]
  return {
    header: ['ms: median / p95 / max', ...fronts.map((f) => f.name), ...fronts.slice(1).map((f) => `${f.name} ÷ embedded (medians)`)],
    rows: figures.map(([what, pick]) => {
      const spreads = fronts.map((f) => spreadOf(pick(f.samples)))
      return [what, ...spreads.map(spreadText), ...spreads.slice(1).map((s) => ratio(s.median, spreads[0]!.median))]
    }),
  }
}

function targetsTable(fronts: readonly Front[]): Table {
  return {
    header: ['target', 'console over', 'measured, ms: median / p95 / max', 'met'],
    rows: fronts.flatMap((f) =>
      checkConsole(f.samples).map((c) => [c.goal, f.name, spreadText(c.spread), c.met === undefined ? '–' : c.met ? 'yes' : '**no**']),
    ),
  }
}

function report(startedAt: Date, facts: string[], keys: number, fronts: readonly Front[]): { text: string; markdown: string } {
  const n = keys.toLocaleString('en-US')
  const figures = figuresTable(fronts)
  const targets = targetsTable(fronts)
  const method =
    `Method: the console served by etcdgw at /ui/, in the system's Chromium (headless, driven by puppeteer-core as the browser ` +
    `tests drive it), with ${n} keys of 256 bytes under \`${KEY_PREFIX}\` (loaded as the scale section loads them). ` +
    `First page: from Enter on \`${KEY_PREFIX}\` in the search box of a freshly loaded console (flat list) to its first ` +
    `${PAGE_SIZE} keys shown. Next page: from a click on Next to the next ${PAGE_SIZE} keys shown, page after page (each ` +
    `page's keys checked once its time is taken). Watch: from a put sent over HTTP to its row shown in the Watch view, one ` +
    `put at a time. Each time is taken in the bench process and ends when a DOM mutation shows the page or row, so it ` +
    `includes one DevTools round trip. In front of: etcdgw's embedded store; a real etcd member loaded with the same keys, ` +
    `behind \`etcdgw serve --endpoints\` with \`--replica=false\` (etcd answers every range the console sends and counts ` +
    `each range's keys one by one: the console's first page counts all ${n}, later pages read windows); the same etcd ` +
    `behind etcdgw's read replica (remote mode as it starts by default). Chromium, etcdgw and etcd share the 2 cores. ` +
    `A target holds when every sample meets it, so the slowest decides.`
  const markdown = [
    `## Console: the web console at /ui/ over ${n} keys, in Chromium`,
    '',
    `Run ${startedAt.toISOString()}.`,
    '',
    ...facts.map((f) => `- ${f}`),
    '',
    method,
    '',
    renderMarkdown(figures),
    '',
    '### Targets: first page < 1 s, every next page < 300 ms, a watch shows a put within 1 s',
    '',
    renderMarkdown(targets),
  ].join('\n')
  return { text: [...facts, '', renderText(figures), '', renderText(targets)].join('\n'), markdown }
}
