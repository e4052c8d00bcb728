import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import type { Schema } from '../../src/http/api/messages.js'
import { openApiDocument } from '../../src/http/api/openapi.js'

t.test('the document is valid OpenAPI 3.1', async (t) => {
  const result = await new Validator().validate(openApiDocument())
  t.same(result.errors, undefined)
  t.equal(result.valid, true)
})

/** The message schemas, closed: an answer field the description lacks fails validation. */
function closed(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closed)
  if (s === null || typeof s !== 'object') return s
  const out = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, e]) => [p, closed(e)])) : closed(v)]))
  if ((s as Schema).type === 'object' && (s as Schema).properties) out.additionalProperties = false
  return out
}

t.test("the server's answers, base64 and text mode, match the described messages", async (t) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  const { components } = openApiDocument() as { components: { schemas: Schema } }
  ajv.addSchema({ $id: 'etcdgw', components: { schemas: closed(components.schemas) } })
  const check = (name: string, body: string, what: string) => {
    const validate = ajv.getSchema(`etcdgw#/components/schemas/${name}`)!
    const ok = validate(JSON.parse(body))
    t.ok(ok, what, { errors: validate.errors, body })
  }

  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-openapi-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128 })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  t.teardown(async () => {
    await app.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const post = async (url: string, payload: unknown) => (await app.inject({ method: 'POST', url, payload: JSON.stringify(payload) })).body

  const lease = JSON.parse(await post('/v3/lease/grant', { TTL: 60 })) as { ID: string }
  for (const [mode, q, k, v, bad] of [
    ['base64', '', 'Zm9v', 'YmFy', '/w=='],
    ['utf8', '?encoding=utf8', 'foo', 'bär', { base64: '/w==' }],
  ] as const) {
    check('PutResponse', await post(`/v3/kv/put${q}`, { key: k, value: v, lease: lease.ID }), `${mode}: put`)
    check('PutResponse', await post(`/v3/kv/put${q}`, { key: k, value: bad, prev_kv: true }), `${mode}: put, prev_kv`)
    check('RangeResponse', await post(`/v3/kv/range${q}`, { key: k, limit: 1 }), `${mode}: range`)
    const txn = {
      compare: [{ key: k, target: 'VALUE', result: 'EQUAL', value: bad }],
      success: [{ request_range: { key: k } }, { request_txn: { success: [{ request_put: { key: k, value: v, prev_kv: true } }] } }],
    }
    check('TxnResponse', await post(`/v3/kv/txn${q}`, txn), `${mode}: txn with a nested txn`)
    check('LeaseTimeToLiveResponse', await post(`/v3/lease/timetolive${q}`, { ID: lease.ID, keys: true }), `${mode}: timetolive`)
    check('DeleteRangeResponse', await post(`/v3/kv/deleterange${q}`, { key: k, prev_kv: true }), `${mode}: deleterange`)
    check('Error', await post(`/v3/kv/put${q}`, { value: v }), `${mode}: an error`)
  }
  check('LeaseGrantResponse', JSON.stringify(lease), 'lease grant')
  check('LeaseLeasesResponse', await post('/v3/lease/leases', {}), 'leases')
  check('StatusResponse', await post('/v3/maintenance/status', {}), 'status')
  check('AlarmResponse', await post('/v3/maintenance/alarm', {}), 'alarm')
  check('HashResponse', await post('/v3/maintenance/hash', {}), 'hash')
  check('MemberListResponse', await post('/v3/cluster/member/list', {}), 'member list')
  check('CompactionResponse', await post('/v3/kv/compaction', { revision: 2 }), 'compaction')
  check('Version', (await app.inject({ method: 'GET', url: '/version' })).body, 'version')

  // watch: the history of foo since the compaction (puts, deletes, values that are not UTF-8) with prev_kv
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  for (const [mode, q, k] of [['base64', '', 'Zm9v'], ['utf8', '?encoding=utf8', 'foo']] as const) {
    const lines = await watchLines(`${url}/v3/watch${q}`, { create_request: { key: k, start_revision: 3, prev_kv: true } }, 2)
    t.match(lines[0], /"created":true/)
    t.match(lines[1], /"type":"DELETE"/, 'the history holds a delete')
    for (const line of lines) {
      const { result } = JSON.parse(line) as { result: unknown }
      check('WatchResponse', JSON.stringify(result), `${mode}: watch`)
    }
  }
})

/** The first `count` lines of an HTTP watch stream; then the connection is closed. */
function watchLines(url: string, request: unknown, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST' }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        if (text.split('\n').length > count) {
          req.destroy()
          resolve(text.split('\n').slice(0, count))
        }
      })
    })
    req.on('error', reject)
    req.end(JSON.stringify(request))
  })
}
