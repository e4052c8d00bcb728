/**
 * Watches created with `fragment` split responses above --max-request-bytes + 512 KiB (protobuf size)
 * as etcd does, compared with real etcd's gateway; both run with a small --max-request-bytes so the
 * limit is 1024 + 512 KiB.
 */
import { createHash } from 'node:crypto'
import t from 'tap'
import { type Context, reachedEveryExpect, runScenario, type Scenario, type Step } from '../helpers/scenario.js'
import { etcdMissing, startOurs, startRealEtcd } from '../helpers/servers.js'
import { b64 } from '../helpers/stream-clients.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const MAX_REQUEST_BYTES = 1024
/** ~945 protobuf bytes per event: 700 of them are two fragments of a 525,312-byte limit. */
const KEYS = 700
const value = b64('x'.repeat(900))
const key = (i: number): string => b64(`frag/${String(i).padStart(3, '0')}`)
const range = { key: b64('frag/'), range_end: b64('frag0') }
const puts: Step[] = Array.from({ length: KEYS }, (_, i) => ({ unary: '/v3/kv/put', body: { key: key(i), value } }))

/** Messages are long: keep what tells fragments apart readable, and a digest of the whole. */
function summary(m: string): string {
  const events = m.match(/"kv":\{"key":"([^"]+)"/g) ?? []
  if (events.length === 0) return m
  const head = m.replace(/"events":\[.*\]/s, `"events":[${events.length}]`)
  return `${head} first ${events[0]} last ${events.at(-1)} sha1 ${createHash('sha1').update(m).digest('hex')}`
}

const scenarios: Scenario[] = [
  {
    name: 'history replayed to a fragmenting watch comes in fragments',
    mask: summary,
    steps: [
      ...puts,
      { send: (ctx: Context) => ({ create_request: { ...range, start_revision: String(ctx.rev - KEYS + 1), fragment: true } }) },
      { expect: 3, timeoutMs: 10_000 },
    ],
  },
  {
    name: 'a delete-range with prev_kv seen by a fragmenting watch, and by a plain one in one message',
    mask: summary,
    steps: [
      { send: { create_request: { ...range, prev_kv: true, fragment: true } } },
      { send: { create_request: { ...range, prev_kv: true, watch_id: 5 } } },
      { expect: 2 },
      { unary: '/v3/kv/deleterange', body: range },
      { expect: 5, timeoutMs: 10_000, unordered: true },
    ],
  },
  {
    name: 'a response under the limit is not fragmented',
    mask: summary,
    steps: [
      { send: { create_request: { ...range, fragment: true } } },
      { expect: 1 },
      { unary: '/v3/kv/put', body: { key: key(1), value } },
      { expect: 2 },
    ],
  },
]

t.test('watch fragments: etcd vs etcdgw', async (t) => {
  const flags = ['--max-request-bytes', String(MAX_REQUEST_BYTES)]
  const [etcd, ours] = await Promise.all([
    startRealEtcd(t, flags),
    startOurs(t, { backend: { maxRequestBytes: MAX_REQUEST_BYTES }, app: { maxRequestBytes: MAX_REQUEST_BYTES } }),
  ])
  for (const transport of ['ws', 'http'] as const) {
    for (const s of scenarios) {
      const [want, got] = await Promise.all([runScenario(s, transport, etcd.url), runScenario(s, transport, ours.url)])
      t.strictSame(got.filter((l) => !l.startsWith('/v3/kv/put')), want.filter((l) => !l.startsWith('/v3/kv/put')), `${transport}: ${s.name}`)
      t.ok(got.some((l) => l.includes('"fragment":true')) || s.name.startsWith('a response under'), 'the scenario produced fragments')
      t.ok(reachedEveryExpect(want), `${transport}: ${s.name}: etcd sent what each step expects`)
    }
  }
})
