/** Lease RPCs and keepalive streams (HTTP and WebSocket), compared with real etcd's gateway. */
import t from 'tap'
import { reachedEveryExpect, runScenario, type Scenario, type Step } from '../helpers/scenario.js'
import { etcdMissing, OUR_TARGETS, startRealEtcd } from '../helpers/servers.js'
import { b64 } from '../helpers/stream-clients.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const explicitIds = new Set(['9007199254740993', '9223372036854775807'])

/**
 * Server-chosen lease IDs differ between servers; `leases` lists in no particular order. A time-to-live
 * counts down from the grant in whole seconds, rounded down (999 just after a grant of 1000), and how many
 * seconds the steps in between take depends on the machine: a remaining TTL 1 to 10 s under the granted
 * one reads as "counting".
 */
function maskIds(s: string): string {
  const masked = s
    .replace(/"ID":"(\d{16,19})"/g, (m, id: string) => (explicitIds.has(id) ? m : '"ID":"chosen"'))
    .replace(/"TTL":"(\d+)","grantedTTL":"(\d+)"/, (m, ttl: string, granted: string) => {
      const elapsed = Number(granted) - Number(ttl)
      return elapsed >= 1 && elapsed <= 10 ? `"TTL":"counting","grantedTTL":"${granted}"` : m
    })
  return masked.replace(/"leases":\[(.*?)\]/, (_m, list: string) => `"leases":[${list.split(/,(?=\{)/).sort().join(',')}]`)
}

const grant = (body: unknown): Step => ({ unary: '/v3/lease/grant', body })

const unary: Scenario = {
  name: 'lease rules',
  mask: maskIds,
  steps: [
    grant({ TTL: 60 }),
    grant({ TTL: 60, ID: '-7' }),
    grant({ TTL: 10, ID: -7 }),
    grant({ TTL: 1000, ID: 9007199254740993 }),
    grant({ TTL: '1000', ID: '9223372036854775807' }),
    grant({ TTL: 9000000001 }),
    grant({ TTL: 9000000000, ID: 5 }),
    grant({ TTL: 1.5 }),
    grant({ TTL: '1000', ID: 'x' }),
    grant('[]'),
    { unary: '/v3/kv/put', body: { key: b64('lease/a'), value: b64('v'), lease: 9007199254740993 } },
    { unary: '/v3/kv/put', body: { key: b64('lease/b'), value: b64('v'), lease: '9007199254740993' } },
    { unary: '/v3/kv/put', body: { key: b64('lease/c'), value: b64('v'), lease: 424242 } },
    { unary: '/v3/lease/timetolive', body: { ID: 9007199254740993, keys: true } },
    { unary: '/v3/kv/lease/timetolive', body: { ID: '9007199254740993' } },
    { unary: '/v3/lease/timetolive', body: { ID: 424242, keys: true } },
    { unary: '/v3/lease/timetolive', body: {} },
    { unary: '/v3/kv/put', body: { key: b64('lease/a'), value: b64('w'), ignore_lease: true } },
    { unary: '/v3/kv/put', body: { key: b64('lease/b'), ignore_value: true } },
    { unary: '/v3/kv/range', body: { key: b64('lease/'), range_end: b64('lease0') } },
    { unary: '/v3/lease/leases', body: {} },
    { unary: '/v3/kv/lease/leases', body: '' },
    { unary: '/v3/lease/revoke', body: { ID: 424242 } },
    { unary: '/v3/kv/lease/revoke', body: {} },
    { unary: '/v3/kv/lease/revoke', body: { ID: 9007199254740993 } },
    { unary: '/v3/kv/range', body: { key: b64('lease/'), range_end: b64('lease0') } },
    { unary: '/v3/lease/revoke', body: { ID: '9223372036854775807' } },
    { unary: '/v3/lease/revoke', body: { ID: 5 } },
    grant({ TTL: 100, ID: 5 }),
    // Below the minimum TTL: granted for the minimum instead (2 s here). Last, as such a lease is gone 2 to
    // 3 s after its grant, wherever the steps above have got to on each server; those list long leases only.
    grant({ TTL: 1 }),
    grant({ TTL: 0 }),
    grant({ TTL: -5, ID: '-8' }),
  ],
}

const keepalives = (transport: 'ws' | 'http'): Scenario[] => [
  {
    name: 'keepalive stream: several messages, unknown lease, IDs above 2^53',
    path: '/v3/lease/keepalive',
    mask: maskIds,
    steps: [
      grant({ TTL: 50, ID: 4711 }),
      grant({ TTL: 60, ID: '9223372036854775807' }),
      { send: '{"ID":4711}{"ID":424242}\n{"ID":9223372036854775807}' },
      { send: transport === 'ws' ? '{"ID":"4711"}' : '\n{"ID":"4711"}' },
      { expect: 4 },
      { endRequest: true },
      { unary: '/v3/lease/revoke', body: { ID: 4711 } },
      { unary: '/v3/lease/revoke', body: { ID: '9223372036854775807' } },
    ],
  },
  {
    name: 'keepalive stream: a bad first message',
    path: '/v3/lease/keepalive',
    steps: [{ send: '{"ID":"zz"}' }, { endRequest: true }, { expect: 1 }],
  },
  {
    name: 'keepalive stream: empty body, then a bad later message ends the HTTP stream',
    path: '/v3/lease/keepalive',
    steps: transport === 'http' ? [{ endRequest: true }, { sleepMs: 500 }, { expect: 0 }] : [{ send: '{}' }, { expect: 1 }],
  },
]

for (const [target, startTarget] of OUR_TARGETS) t.test(`leases: etcd vs ${target}`, async (t) => {
  const [etcd, ours] = await Promise.all([startRealEtcd(t), startTarget(t)])
  const [want, got] = await Promise.all([runScenario(unary, 'http', etcd.url), runScenario(unary, 'http', ours.url)])
  t.strictSame(got, want, unary.name)
  t.ok(reachedEveryExpect(want), `${unary.name}: etcd sent what each step expects`)
  for (const transport of ['http', 'ws'] as const) {
    for (const s of keepalives(transport)) {
      const [want, got] = await Promise.all([runScenario(s, transport, etcd.url), runScenario(s, transport, ours.url)])
      t.strictSame(got, want, `${transport}: ${s.name}`)
      t.ok(reachedEveryExpect(want), `${transport}: ${s.name}: etcd sent what each step expects`)
    }
  }
})
