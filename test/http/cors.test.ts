/**
 * --cors (src/http/cors.ts): the CORS headers real etcd 3.4 sends for a list of origins and for `*`,
 * compared request by request with ours; what we accept beyond etcd (origins without their port); and,
 * with the console on, which origins' pages may send requests that change state.
 */
import t, { type Test } from 'tap'
import { parseCorsOrigins } from '../../src/http/cors.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { startOurs } from '../helpers/servers.js'

const ours = async (t: Test, cors: string, ui = false) => (await startOurs(t, { app: { cors: parseCorsOrigins(cors), ui } })).url

interface Probe {
  method: 'GET' | 'POST' | 'OPTIONS'
  path: string
  origin?: string
}

const probes: Probe[] = [
  { method: 'OPTIONS', path: '/v3/kv/range' },
  { method: 'OPTIONS', path: '/v3/kv/range', origin: 'http://a.example:8080' },
  { method: 'OPTIONS', path: '/v3/kv/range', origin: 'http://c.example:8080' },
  { method: 'POST', path: '/v3/kv/range' },
  { method: 'POST', path: '/v3/kv/range', origin: 'http://a.example:8080' },
  { method: 'POST', path: '/v3/kv/range', origin: 'http://A.example:8080' },
  { method: 'POST', path: '/v3/kv/range', origin: 'http://b.example:8081' },
  { method: 'POST', path: '/v3/kv/range', origin: 'http://c.example:8080' },
  { method: 'GET', path: '/health', origin: 'http://b.example:8081' },
  { method: 'GET', path: '/health' },
  { method: 'POST', path: '/v3/kv/nothing', origin: 'http://a.example:8080' },
]

/** The status and the CORS headers of each probe's answer. */
async function corsOf(url: string): Promise<string[]> {
  const out: string[] = []
  for (const p of probes) {
    const res = await fetch(`${url}${p.path}`, {
      method: p.method,
      headers: { ...(p.origin ? { origin: p.origin } : {}), ...(p.method === 'OPTIONS' ? { 'access-control-request-method': 'POST' } : {}) },
      ...(p.method === 'POST' ? { body: '{"key":"YQ=="}' } : {}),
    })
    await res.arrayBuffer()
    const cors = [...res.headers].filter(([name]) => name.startsWith('access-control-')).sort()
    out.push(`${p.method} ${p.path} origin=${p.origin ?? '-'}: ${res.status} ${JSON.stringify(cors)}`)
  }
  return out
}

t.test('the CORS headers real etcd sends, for a list of origins and for *', { skip: etcdMissing() }, async (t) => {
  for (const cors of ['http://a.example:8080,http://b.example:8081', '*']) {
    const etcd = await startEtcd({ fastElection: true, teardown: t, flags: ['--cors', cors] })
    const expected = await corsOf(etcd.url)
    t.match(expected[4], /access-control-allow-origin/, `etcd sent CORS headers (--cors ${cors})`)
    t.same(await corsOf(await ours(t, cors)), expected, `--cors ${cors}`)
  }
})

t.test('the flag: *, an empty value, origins with or without their port; anything else refused', async (t) => {
  t.equal(parseCorsOrigins('*'), '*')
  t.equal(parseCorsOrigins(''), '*', "etcd: empty means every origin")
  t.equal(parseCorsOrigins('https://a.example, *'), '*')
  t.same([...(parseCorsOrigins('https://a.example:443,http://B.example:8080,https://c.example/') as Set<string>)], [
    'https://a.example',
    'http://b.example:8080',
    'https://c.example',
  ], 'compared as browsers write the Origin header')
  for (const bad of ['a.example:8080', 'ftp://a.example', 'https://a.example/path', 'https://user@a.example', 'https://a.example?x']) {
    t.throws(() => parseCorsOrigins(bad), { message: `"${bad}" is not an origin: give scheme://host[:port] (http or https, no path), or * for every origin` }, bad)
  }
})

t.test('beyond etcd: an origin listed without its default port matches what browsers send', async (t) => {
  const url = await ours(t, 'https://app.example')
  const res = await fetch(`${url}/v3/kv/range`, { method: 'POST', headers: { origin: 'https://app.example' }, body: '{"key":"YQ=="}' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('access-control-allow-origin'), 'https://app.example')
})

t.test('with the console on: pages of a listed origin may change state; others, and every origin under *, may not', async (t) => {
  const put = (url: string, origin: string) =>
    fetch(`${url}/v3/kv/put`, { method: 'POST', headers: { origin }, body: '{"key":"Zm9v","value":"YmFy"}' })
  const listed = await ours(t, 'https://app.example:8443', true)
  const allowed = await put(listed, 'https://app.example:8443')
  t.equal(allowed.status, 200, 'the listed origin')
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example:8443')
  const refused = await put(listed, 'https://other.example')
  t.equal(refused.status, 403, 'an origin not listed')
  t.match(await refused.json(), { message: /cross-origin request from https:\/\/other\.example refused/ })
  const any = await ours(t, '*', true)
  t.equal((await put(any, 'https://app.example:8443')).status, 403, '* lets every origin read, none change state')
})
