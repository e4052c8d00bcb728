import { readFileSync } from 'node:fs'
import { renderText, type Table } from './report.js'

/** The parts of V8's .cpuprofile format (written by node --cpu-prof) that the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

type Node = CpuProfile['nodes'][number]

/** Where a sample's own time goes, by who owns the code. First match wins. */
const CATEGORIES: [string, (n: Node) => boolean][] = [
  ['idle', (n) => n.callFrame.functionName === '(idle)'],
  ['GC', (n) => n.callFrame.functionName === '(garbage collector)'],
  ['program (native, unattributed)', (n) => n.callFrame.functionName === '(program)'],
  ['start-up (module loading)', (n) => /^node:internal\/(modules|bootstrap)/.test(n.callFrame.url)],
  ['etcdgw http layer', (n) => /\/dist\/src\/(http|app|config|main|cli)/.test(n.callFrame.url)],
  ['etcdgw store', (n) => n.callFrame.url.includes('/dist/src/backend/')],
  ['etcdgw other', (n) => n.callFrame.url.includes('/dist/src/')],
  ['lmdb + msgpackr', (n) => /node_modules\/(lmdb|msgpackr|ordered-binary)/.test(n.callFrame.url)],
  ['fastify and its deps', (n) => /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|fast-json-stringify|secure-json-parse|fast-querystring|toad-cache|abstract-logging|pino)/.test(n.callFrame.url)],
  ['other node_modules', (n) => n.callFrame.url.includes('node_modules/')],
  ['node http', (n) => /^node:(_http|internal\/http|http)/.test(n.callFrame.url)],
  ['node net/streams/timers', (n) => /^node:(net|stream|internal\/(streams|stream_base|net|timers|async_hooks)|timers|events)/.test(n.callFrame.url)],
  ['node other', (n) => n.callFrame.url.startsWith('node:')],
  ['socket writes (native, incl. the syscall)', (n) => n.callFrame.url === '' && /^write(v|Buffer|Utf8String|Latin1String)$/.test(n.callFrame.functionName)],
  ['JSON.parse / JSON.stringify (native)', (n) => n.callFrame.url === '' && /^(parse|stringify)$/.test(n.callFrame.functionName)],
  ['other native (V8 builtins, Buffer, …)', (n) => n.callFrame.url === ''],
]

function category(n: Node): string {
  return CATEGORIES.find(([, match]) => match(n))?.[0] ?? 'other'
}

function frameName(n: Node): string {
  const { functionName, url, lineNumber } = n.callFrame
  const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : 'native'
  return `${functionName || '(anonymous)'} ${where}`
}

/** Self time by category, the hottest functions by self time, and etcdgw's own functions by inclusive time. */
export function summarize(profile: CpuProfile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))

  let total = 0
  let busy = 0
  const cats = new Map<string, number>()
  const fns = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, us] of self) {
    const n = byId.get(id)!
    const cat = category(n)
    total += us
    if (cat !== 'idle') busy += us
    cats.set(cat, (cats.get(cat) ?? 0) + us)
    if (cat === 'idle') continue
    fns.set(frameName(n), (fns.get(frameName(n)) ?? 0) + us)
    // inclusive: each of our frames on the stack once, however deep it recurses
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!
      if (!f.callFrame.url.includes('/dist/src/')) continue
      const name = frameName(f)
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + us)
      seen.add(name)
    }
  }
  const pct = (us: number, of: number): string => `${((100 * us) / of).toFixed(1)}%`
  const table = (header: string[], m: Map<string, number>, of: number, n: number): Table => ({
    header,
    rows: [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => [k, `${(us / 1000).toFixed(0)} ms`, pct(us, of)]),
  })
  return [
    `profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${pct(busy, total)})`,
    '',
    renderText(table(['self time by owner', 'time', 'of busy'], new Map([...cats].filter(([c]) => c !== 'idle')), busy, 99)),
    '',
    renderText(table(['hottest functions (self)', 'time', 'of busy'], fns, busy, top)),
    '',
    renderText(table(['etcdgw functions (inclusive)', 'time', 'of busy'], inclusive, busy, top)),
  ].join('\n')
}

for (const file of process.argv.slice(2)) {
  console.log(`== ${file}`)
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile))
}
