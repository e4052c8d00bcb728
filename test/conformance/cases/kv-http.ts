import type { ConformanceCase, Step } from '../case.js'
import { b64, chained, put, range, step } from './requests.js'

const FOO = `{"key":"${b64('foo')}"}`

/** Routing, methods and CORS, after writing foo so that a working route shows data. */
const routed = (label: string, path: string, method = 'POST', body = FOO): [string, Step] => [label, step(path, body, { method })]

const routingCases: ConformanceCase[] = chained(
  'http/routing',
  [
    routed('v3beta alias range', '/v3beta/kv/range'),
    routed('v3beta alias put', '/v3beta/kv/put', 'POST', `{"key":"${b64('foo')}","value":"${b64('beta')}"}`),
    routed('v3beta alias txn', '/v3beta/kv/txn', 'POST', '{}'),
    routed('v3alpha is not served', '/v3alpha/kv/range'),
    routed('unknown method under kv', '/v3/kv/get'),
    routed('unknown service under v3', '/v3/nothing/here'),
    routed('unknown path outside v3', '/foo'),
    routed('root path', '/'),
    routed('v3 alone', '/v3'),
    routed('v3 with slash', '/v3/'),
    routed('trailing slash', '/v3/kv/range/'),
    routed('paths are case-sensitive', '/v3/KV/range'),
    routed('double slash redirects', '//v3/kv/range'),
    routed('inner double slash redirects', '/v3//kv/range'),
    routed('dot segment redirects', '/v3/kv/../kv/range'),
    routed('escaped NUL and slash redirect to the cleaned path', '/%00/%2F'),
    routed('a redirect escapes the path as Go does', "/v3//a%20b!'(c)*"),
    routed('a redirect keeps UTF-8 escaped', '/%E2%82%AC//x'),
    routed('query string ignored', '/v3/kv/range?key=Zm9v&x=1'),
    routed('empty query string', '/v3/kv/range?'),
    routed('GET on an RPC path', '/v3/kv/range', 'GET', ''),
    routed('PUT on an RPC path', '/v3/kv/put', 'PUT'),
    routed('DELETE on an RPC path', '/v3/kv/deleterange', 'DELETE'),
    routed('PATCH on an RPC path', '/v3/kv/txn', 'PATCH'),
    routed('GET on an unknown path', '/v3/kv/nope', 'GET', ''),
    routed('OPTIONS preflight', '/v3/kv/range', 'OPTIONS', ''),
    routed('OPTIONS on an unknown path', '/v3/kv/nope', 'OPTIONS', ''),
    routed('OPTIONS on v3beta', '/v3beta/kv/put', 'OPTIONS', ''),
  ],
  [put('foo', 'bar')],
)

const preflight: ConformanceCase = {
  name: 'http/CORS preflight with request headers',
  steps: [
    step('/v3/kv/range', '', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
        'content-type': null,
      },
    }),
    step('/v3/kv/range', FOO, { headers: { origin: 'http://example.com' } }),
  ],
}

const SMALL = { maxRequestBytes: 1024 }

/** etcd limits the protobuf request, which for a put is the value plus a few bytes of framing. */
const putOfValueSize = (size: number) => put('k', 'v'.repeat(size))

const sizeCases: ConformanceCase[] = [
  { name: 'size/small limit, small put', server: SMALL, steps: [put('foo', 'bar'), range('foo')] },
  { name: 'size/small limit, value of 900 bytes', server: SMALL, steps: [putOfValueSize(900), range('k', { count_only: true })] },
  { name: 'size/small limit, value of 1,017 bytes', server: SMALL, steps: [putOfValueSize(1017), range('k', { count_only: true })] },
  { name: 'size/small limit, value of 1,024 bytes', server: SMALL, steps: [putOfValueSize(1024), range('k', { count_only: true })] },
  { name: 'size/small limit, value of 4 KiB', server: SMALL, steps: [putOfValueSize(4096)] },
  { name: 'size/small limit, key of 2 KiB', server: SMALL, steps: [put('k'.repeat(2048), 'v')] },
  { name: 'size/small limit, range of a long key', server: SMALL, steps: [range('k'.repeat(2048))] },
  {
    name: 'size/small limit, txn of 40 puts',
    server: SMALL,
    steps: [step('/v3/kv/txn', JSON.stringify({ success: Array.from({ length: 40 }, (_, i) => ({ request_put: { key: b64(`key${i}`), value: b64('value') } })) }))],
  },
  { name: 'size/small limit, value 512 KiB beyond it', server: SMALL, steps: [putOfValueSize(1024 + 512 * 1024 + 100)] },
  { name: 'size/small limit, JSON body larger than the limit', server: SMALL, steps: [step('/v3/kv/range', `{"key":"Zm9v"${' '.repeat(4096)}}`)] },
  { name: 'size/default limit, value of 1.5 MiB', steps: [putOfValueSize(1.5 * 1024 * 1024)] },
  { name: 'size/default limit, value of 1.6 MB', steps: [putOfValueSize(1_600_000)] },
  { name: 'size/default limit, value of 2.2 MB', steps: [putOfValueSize(2_200_000)] },
]

/** A txn holding a txn, `depth` times over: etcd's check gives each level the ops its parent leaves. */
const nestedTxn = (depth: number) => '{"success":[{"request_txn":'.repeat(depth) + '{}' + '}]}'.repeat(depth)

const nestingCases: ConformanceCase[] = [128, 129, 3000].map((depth) => ({
  name: `txn/nested ${depth} deep`,
  steps: [step('/v3/kv/txn', nestedTxn(depth))],
}))

export const httpCases: ConformanceCase[] = [...routingCases, preflight, ...sizeCases, ...nestingCases]
