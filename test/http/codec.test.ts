import t from 'tap'
import type { KeyValue, ResponseHeader } from '../../src/backend/backend.js'
import { EtcdError, Errors } from '../../src/errors.js'
import { decoders, encoders } from '../../src/http/codec/codecs.js'
import { encodeError, encodeStreamError } from '../../src/http/codec/envelope.js'
import { readFirstValue } from '../../src/http/codec/json.js'

const body = (text: string) => readFirstValue(Buffer.from(text, 'utf8').toString('latin1'))
const range = (text: string) => decoders.RangeRequest(body(text)).request
const put = (text: string) => decoders.PutRequest(body(text)).request
const txn = (text: string) => decoders.TxnRequest(body(text)).request

/** The decode error message, as etcd 3.4.23's gateway answered it (HTTP 400, code 3). */
function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof EtcdError && err.grpcCode === 3) return err.message
    throw err
  }
  return 'no error'
}
const rangeError = (text: string) => errorOf(() => range(text))

t.test('range: every field, proto and lowerCamel names', async (t) => {
  const r = range(
    '{"key":"Zm9v","range_end":"AA==","limit":"2","revision":3,"sort_order":"DESCEND","sort_target":"MOD",' +
      '"serializable":true,"keys_only":true,"count_only":false,"min_mod_revision":"4","max_mod_revision":5,' +
      '"min_create_revision":6,"max_create_revision":"7"}',
  )
  t.same(r, {
    key: Buffer.from('foo'), rangeEnd: Buffer.from([0]), limit: 2, revision: 3, sortOrder: 2, sortTarget: 3,
    serializable: true, keysOnly: true, countOnly: false, minModRevision: 4, maxModRevision: 5,
    minCreateRevision: 6, maxCreateRevision: 7,
  })
  const c = range(
    '{"key":"Zm9v","rangeEnd":"AA==","sortOrder":1,"sortTarget":"VALUE","keysOnly":true,"countOnly":true,' +
      '"minModRevision":1,"maxModRevision":2,"minCreateRevision":3,"maxCreateRevision":4}',
  )
  t.same([c.rangeEnd, c.sortOrder, c.sortTarget, c.keysOnly, c.countOnly], [Buffer.from([0]), 1, 4, true, true])
  t.same([c.minModRevision, c.maxModRevision, c.minCreateRevision, c.maxCreateRevision], [1, 2, 3, 4])
  t.same(range(''), range('{}'), 'empty body is an empty request')
  t.same(range('null'), range('{}'))
  t.same(range('{}').key, Buffer.alloc(0))
})

t.test('names: camel wins over proto, last duplicate wins, unknown ignored, case-sensitive', async (t) => {
  t.equal(range('{"sortOrder":"DESCEND","sort_order":"x"}').sortOrder, 2)
  t.equal(range('{"sort_order":"x","sortOrder":"DESCEND"}').sortOrder, 2)
  t.equal(range('{"limit":"x","limit":1}').limit, 1)
  t.equal(range('{"Limit":"x","x":{"a":[1,{"b":"c"}]}}').limit, 0)
  t.same(range('{"k\\u0065y":"Zm9v"}').key, Buffer.from('foo'))
})

t.test('int64: strings and numbers, exact errors', async (t) => {
  for (const [v, n] of [['" 5"', 5], ['"5 "', 5], ['-0', 0], ['"null"', 0], ['null', 0], ['"-1"', -1]] as const) {
    t.equal(range(`{"limit":${v}}`).limit, n, v)
  }
  t.equal(range('{"limit":9223372036854775807}').limit, 9223372036854775807)
  t.equal(put('{"lease":"9223372036854775807"}').lease, 9223372036854775807n, 'no precision loss')
  t.equal(put('{"lease":-9223372036854775808}').lease, -9223372036854775808n)
  const cases: [string, string][] = [
    ['"x"', "invalid character 'x' looking for beginning of value"],
    ['""', 'unexpected end of JSON input'],
    ['"1 2"', "invalid character '2' after top-level value"],
    ['"-"', "invalid character ' ' in numeric literal"],
    ['"01"', "invalid character '1' after top-level value"],
    ['"+1"', "invalid character '+' looking for beginning of value"],
    ['"true"', 'json: cannot unmarshal bool into Go value of type int64'],
    ['"\\u0035"', "invalid character '\\\\' looking for beginning of value"],
    ['"é"', "invalid character 'Ã' looking for beginning of value"],
    ['1.5', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['"1.5"', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['1e1', 'json: cannot unmarshal number 1e1 into Go value of type int64'],
    ['1E1', 'json: cannot unmarshal number 1E1 into Go value of type int64'],
    ['9223372036854775808', 'json: cannot unmarshal number 9223372036854775808 into Go value of type int64'],
    ['-9223372036854775809', 'json: cannot unmarshal number -9223372036854775809 into Go value of type int64'],
    ['true', 'json: cannot unmarshal bool into Go value of type int64'],
    ['{}', 'json: cannot unmarshal object into Go value of type int64'],
    ['[]', 'json: cannot unmarshal array into Go value of type int64'],
    ['"{}"', 'json: cannot unmarshal object into Go value of type int64'],
    ['"[1]"', 'json: cannot unmarshal array into Go value of type int64'],
    ['"\\"5\\""', "invalid character '\\\\' looking for beginning of value"],
    ['"1x"', "invalid character 'x' after top-level value"],
    ['"1.5e"', "invalid character ' ' in exponent of numeric literal"],
  ]
  for (const [v, message] of cases) t.equal(rangeError(`{"key":"Zm9v","limit":${v}}`), message, v)
})

t.test('bool: only true, false, null', async (t) => {
  t.equal(range('{"serializable":null}').serializable, false)
  for (const [v, kind] of [['"true"', 'string'], ['1', 'number'], ['{}', 'object'], ['[]', 'array']]) {
    t.equal(rangeError(`{"serializable":${v}}`), `json: cannot unmarshal ${kind} into Go value of type bool`, v)
  }
})

t.test('enums: exact names or any int32', async (t) => {
  t.equal(range('{"sort_order":99}').sortOrder, 99)
  t.equal(range('{"sort_order":-1}').sortOrder, -1)
  t.equal(range('{"sort_order":null}').sortOrder, 0)
  const T = 'etcdserverpb.RangeRequest_SortOrder'
  const cases: [string, string][] = [
    ['"descend"', `unknown value "descend" for enum ${T}`],
    ['"2"', `unknown value "2" for enum ${T}`],
    ['"DESC\\u0045ND"', `unknown value "DESC\\\\u0045ND" for enum ${T}`],
    ['"é\\t"', `unknown value "é\\\\t" for enum ${T}`],
    ['""', `unknown value "" for enum ${T}`],
    ['1.5', `json: cannot unmarshal number 1.5 into Go value of type ${T}`],
    ['2147483648', `json: cannot unmarshal number 2147483648 into Go value of type ${T}`],
    ['true', `json: cannot unmarshal bool into Go value of type ${T}`],
    ['{}', `json: cannot unmarshal object into Go value of type ${T}`],
  ]
  for (const [v, message] of cases) t.equal(rangeError(`{"key":"Zm9v","sort_order":${v}}`), message, v)
  t.equal(
    errorOf(() => txn('{"compare":[{"key":"YQ==","result":"equal"}]}')),
    'unknown value "equal" for enum etcdserverpb.Compare_CompareResult',
  )
  t.equal(
    errorOf(() => txn('{"compare":[{"key":"YQ==","target":"value"}]}')),
    'unknown value "value" for enum etcdserverpb.Compare_CompareTarget',
  )
})

t.test("bytes: Go's strict standard base64", async (t) => {
  const ok: [string, string][] = [
    ['Zm9v', 'foo'], ['Zg==', 'f'], ['Zm8=', 'fo'], ['Zh==', 'f'], ['Zm9=', 'fo'], ['Zm9v\\n', 'foo'],
    ['\\nZm9v', 'foo'], ['Zm\\n9v', 'foo'], ['Zg=\\n=', 'f'], ['Zg\\r\\n==', 'f'], ['Zg==\\n', 'f'],
    ['\\u005am9v', 'foo'], ['', ''],
  ]
  for (const [v, s] of ok) t.same(range(`{"key":"${v}"}`).key, Buffer.from(s, 'latin1'), v)
  const bad: [string, number][] = [
    ['Zm9', 0], ['Zm', 0], ['Z', 0], ['Zg=', 3], ['Zg', 0], ['Zg==Zg==', 4], ['Zg==x', 4], ['Zm9v=', 4], ['=', 0],
    ['==', 0], ['====', 0], ['Z===', 1], ['Zm9v_-', 4], ['Zm9v+/', 4], ['Zm9v-', 4], ['Zm 9v', 2], ['Zm9v\\t', 4],
    ['Zm9=x', 4], ['Zg==\\nx', 5], ['Zm9vY', 4], ['Zm9vYm', 4], ['Zm9vYmF', 4], ['Zm9v\\/', 4], ['é', 0],
    ['Zm9vé', 4], ['Zg=é', 2], ['A\\n', 1], ['A\\n\\n\\n', 3], ['AB\\n=', 4], ['ABC=\\n\\n=', 6],
  ]
  for (const [v, n] of bad) t.equal(rangeError(`{"key":"${v}"}`), `illegal base64 data at input byte ${n}`, v)
})

t.test('bytes: arrays of byte values, other kinds refused', async (t) => {
  t.same(range('{"key":[102,111]}').key, Buffer.from('fo'))
  t.same(range('{"key":[null,102]}').key, Buffer.from([0, 102]))
  t.same(range('{"key":null}').key, Buffer.alloc(0))
  const cases: [string, string][] = [
    ['true', 'json: cannot unmarshal bool into Go value of type []uint8'],
    ['{}', 'json: cannot unmarshal object into Go value of type []uint8'],
    ['1', 'json: cannot unmarshal number into Go value of type []uint8'],
    ['[256]', 'json: cannot unmarshal number 256 into Go value of type uint8'],
    ['[-1]', 'json: cannot unmarshal number -1 into Go value of type uint8'],
    ['["a"]', 'json: cannot unmarshal string into Go value of type uint8'],
    ['[1.5]', 'json: cannot unmarshal number 1.5 into Go value of type uint8'],
  ]
  for (const [v, message] of cases) t.equal(rangeError(`{"key":${v}}`), message, v)
})

t.test('messages and lists: kind errors', async (t) => {
  const map = 'map[string]json.RawMessage'
  const list = '[]json.RawMessage'
  const cases: [string, string][] = [
    ['[]', `json: cannot unmarshal array into Go value of type ${map}`],
    ['"x"', `json: cannot unmarshal string into Go value of type ${map}`],
    ['1', `json: cannot unmarshal number into Go value of type ${map}`],
    ['true', `json: cannot unmarshal bool into Go value of type ${map}`],
    ['{"compare":{}}', `json: cannot unmarshal object into Go value of type ${list}`],
    ['{"compare":"x"}', `json: cannot unmarshal string into Go value of type ${list}`],
    ['{"compare":[1]}', `json: cannot unmarshal number into Go value of type ${map}`],
    ['{"success":{}}', `json: cannot unmarshal object into Go value of type ${list}`],
    ['{"success":[1]}', `json: cannot unmarshal number into Go value of type ${map}`],
    ['{"success":[{"request_put":1}]}', `json: cannot unmarshal number into Go value of type ${map}`],
  ]
  for (const [v, message] of cases) t.equal(errorOf(() => txn(v)), message, v)
})

t.test('errors come in proto field order, depth first, whatever the body order', async (t) => {
  t.equal(rangeError('{"revision":"y","key":"Zm9v","limit":"x"}'), "invalid character 'x' looking for beginning of value")
  t.equal(rangeError('{"limit":"x","key":"!!"}'), 'illegal base64 data at input byte 0')
  const cases: [string, string][] = [
    ['{"compare":[{"key":"YQ==","range_end":"!","result":"x"}]}', 'unknown value "x" for enum etcdserverpb.Compare_CompareResult'],
    ['{"compare":[{"key":"YQ==","version":"x","result":"x"}]}', 'unknown value "x" for enum etcdserverpb.Compare_CompareResult'],
    ['{"compare":[{"key":"YQ==","version":"x","range_end":"!"}]}', 'illegal base64 data at input byte 0'],
    ['{"failure":[{"request_range":{"key":"!"}}],"success":[{"request_range":{"key":"YQ==","limit":"x"}}]}', "invalid character 'x' looking for beginning of value"],
    ['{"failure":[{"request_range":{"key":"!"}}],"compare":[{"key":"!"}]}', 'illegal base64 data at input byte 0'],
    ['{"success":[{"request_txn":{"success":[{"request_range":{"key":"YQ==","limit":"x"}}]}}]}', "invalid character 'x' looking for beginning of value"],
    ['{"success":[{"requestPut":{"key":"YQ==","lease":"x"}}]}', "invalid character 'x' looking for beginning of value"],
    ['{"compare":[{"key":"YQ==","mod_revision":1.5}]}', 'json: cannot unmarshal number 1.5 into Go value of type int64'],
    ['{"compare":[{"key":"YQ==","target":"VALUE","value":"!"}]}', 'illegal base64 data at input byte 0'],
  ]
  for (const [v, message] of cases) t.equal(errorOf(() => txn(v)), message, v)
})

t.test('txn: compares, ops of every kind, nested txns, empty ops', async (t) => {
  const r = txn(
    '{"compare":[{"key":"YQ==","target":"VALUE","value":"eA=="},{"key":"YQ==","rangeEnd":"Yg==","result":"GREATER","target":"MOD","modRevision":"3"},' +
      '{"key":"YQ==","target":"LEASE","lease":"-7"},{"key":"YQ==","target":1,"createRevision":2},{}],' +
      '"success":[{"request_range":{"key":"YQ=="}},{"requestPut":{"key":"Yg==","value":"eQ=="}},{"request_delete_range":{"key":"Yw=="}},' +
      '{"request_txn":{"success":[{"request_put":{"key":"ZA=="}}]}},{},null,{"request_put":null}],"failure":[]}',
  )
  const none = { kind: 'none' }
  t.same(r.compare[0], { result: 0, target: 3, key: Buffer.from('a'), rangeEnd: Buffer.alloc(0), version: 0, createRevision: 0, modRevision: 0, value: Buffer.from('x'), lease: 0n })
  t.same([r.compare[1].result, r.compare[1].target, r.compare[1].modRevision, r.compare[1].rangeEnd], [1, 2, 3, Buffer.from('b')])
  t.equal(r.compare[2].lease, -7n)
  t.equal(r.compare[3].createRevision, 2)
  t.same(r.compare[4].key, Buffer.alloc(0))
  t.same(r.success.map((op) => op.kind), ['range', 'put', 'deleteRange', 'txn', 'none', 'none', 'none'])
  t.same(r.success[5], none, 'a null op is an empty op (etcd 3.4 drops the connection)')
  const nested = r.success[3]
  t.ok(nested.kind === 'txn' && nested.request.success[0].kind === 'put')
  t.same(r.failure, [])
})

t.test('put, deleterange, compaction', async (t) => {
  t.same(put('{"key":"YQ==","value":"eA==","lease":"5","prev_kv":true,"ignore_value":true,"ignore_lease":true}'), {
    key: Buffer.from('a'), value: Buffer.from('x'), lease: 5n, prevKv: true, ignoreValue: true, ignoreLease: true,
  })
  t.same(put('{"prevKv":true,"ignoreValue":true,"ignoreLease":true}').ignoreLease, true)
  t.same(decoders.DeleteRangeRequest(body('{"key":"YQ==","rangeEnd":"Yg==","prevKv":true}')).request, {
    key: Buffer.from('a'), rangeEnd: Buffer.from('b'), prevKv: true,
  })
  t.same(decoders.CompactionRequest(body('{"revision":"3","physical":true}')).request, { revision: 3, physical: true })
})

t.test('protobuf sizes: the numbers etcd reports in "received message larger than max"', async (t) => {
  const b64 = (n: number) => Buffer.alloc(n, 'x').toString('base64')
  t.equal(decoders.RangeRequest(body(`{"key":"${b64(525310)}"}`)).size, 525314)
  t.equal(decoders.PutRequest(body(`{"key":"YQ==","value":"${b64(2000000)}"}`)).size, 2000007)
  t.equal(decoders.TxnRequest(body(`{"success":[{"request_put":{"key":"YQ==","value":"${b64(600000)}"}}]}`)).size, 600015)
  t.equal(decoders.PutRequest(body(`{"key":"YQ==","value":"${b64(1001)}"}`)).size, 1007)
  t.equal(decoders.RangeRequest(body('{"key":"YQ==","limit":-1,"count_only":true}')).size, 3 + 11 + 2)
  t.equal(decoders.TxnRequest(body('{"compare":[{"key":"YQ==","version":0,"range_end":"Yg=="}],"success":[{}]}')).size, 2 + (3 + 2 + 4) + 2)
  t.equal(decoders.CompactionRequest(body('{"revision":300}')).size, 3)
})

const header: ResponseHeader = { clusterId: 14841639068965178418n, memberId: 10276657743932975437n, revision: 5, raftTerm: 2 }
const H = '{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"5","raft_term":"2"}'
const kv = (key: string, value: string, c: number, m: number, v: number, lease = 0n): KeyValue => ({
  key: Buffer.from(key), value: Buffer.from(value), createRevision: c, modRevision: m, version: v, lease,
})
const sub = (revision: number): ResponseHeader => ({ clusterId: 0n, memberId: 0n, revision, raftTerm: 0 })

t.test('responses: proto names and order, int64 strings, zero values omitted (shapes measured on etcd)', async (t) => {
  t.equal(
    encoders.RangeResponse({ header, kvs: [kv('foo', 'bar', 2, 2, 1)], more: false, count: 1 }),
    `{"header":${H},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`,
  )
  t.equal(encoders.RangeResponse({ header, kvs: [], more: false, count: 0 }), `{"header":${H}}`)
  t.equal(
    encoders.RangeResponse({ header, kvs: [kv('a', 'x', 3, 4, 2, 7n)], more: true, count: 2 }),
    `{"header":${H},"kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"4","version":"2","value":"eA==","lease":"7"}],"more":true,"count":"2"}`,
  )
  t.equal(
    encoders.PutResponse({ header, prevKv: kv('a', '', 3, 3, 1) }),
    `{"header":${H},"prev_kv":{"key":"YQ==","create_revision":"3","mod_revision":"3","version":"1"}}`,
  )
  t.equal(encoders.PutResponse({ header }), `{"header":${H}}`)
  t.equal(
    encoders.DeleteRangeResponse({ header, deleted: 1, prevKvs: [kv('a', 'x', 3, 4, 2)] }),
    `{"header":${H},"deleted":"1","prev_kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"4","version":"2","value":"eA=="}]}`,
  )
  t.equal(encoders.DeleteRangeResponse({ header, deleted: 0, prevKvs: [] }), `{"header":${H}}`)
  t.equal(encoders.CompactionResponse({ header }), `{"header":${H}}`)
  t.equal(encoders.TxnResponse({ header, succeeded: false, responses: [] }), `{"header":${H}}`)
  t.equal(
    encoders.TxnResponse({
      header,
      succeeded: true,
      responses: [
        { kind: 'range', response: { header: sub(5), kvs: [kv('a', 'x', 3, 4, 2)], more: false, count: 1 } },
        { kind: 'put', response: { header: sub(6) } },
        { kind: 'deleteRange', response: { header: sub(6), deleted: 0, prevKvs: [] } },
        { kind: 'txn', response: { header: sub(0), succeeded: true, responses: [] } },
      ],
    }),
    `{"header":${H},"succeeded":true,"responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"4","version":"2","value":"eA=="}],"count":"1"}},` +
      '{"response_put":{"header":{"revision":"6"}}},{"response_delete_range":{"header":{"revision":"6"}}},{"response_txn":{"header":{},"succeeded":true}}]}',
  )
  t.equal(
    encoders.RangeResponse({ header: { ...header, clusterId: -1n }, kvs: [], more: false, count: 0 }),
    '{"header":{"cluster_id":"18446744073709551615","member_id":"10276657743932975437","revision":"5","raft_term":"2"}}',
    'cluster and member IDs are uint64',
  )
})

t.test("error bodies: grpc-gateway's shape with Go's JSON escaping", async (t) => {
  t.equal(
    encodeError('etcdserver: key is not provided', 3),
    '{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}',
  )
  t.equal(
    encodeError("invalid character '<' looking for beginning of value", 3),
    `{"error":"invalid character '\\u003c' looking for beginning of value","message":"invalid character '\\u003c' looking for beginning of value","code":3}`,
  )
  t.equal(encodeError('invalid character \'\\\'\' x "&>\u2028\x01\ud800', 3).split(',"message"')[0], `{"error":"invalid character '\\\\'' x \\"\\u0026\\u003e\\u2028\\u0001\\ufffd"`)
})

t.test('an in-stream error is grpc-gateway\'s shape, escaped as Go escapes, with Go\'s status text', async (t) => {
  t.equal(
    encodeStreamError(Errors.jsonInvalidCharacter("'<'", '& >')),
    '{"error":{"grpc_code":3,"http_code":400,"message":"invalid character \'\\u003c\' \\u0026 \\u003e","http_status":"Bad Request"}}',
  )
})
