import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { post } from '../helpers/http.js'

/* Data, revisions and the compaction state survive a clean restart (SIGTERM, then the same data dir). */

const b64 = (s: string) => Buffer.from(s).toString('base64')

t.test('a clean restart keeps data, revisions and compaction', async (t) => {
  const server = await startGateway({ teardown: t })
  const call = (path: string, body: object) => post(server.url, path, JSON.stringify(body))
  for (let i = 0; i < 5; i++) await call('/v3/kv/put', { key: b64(`k${i % 3}`), value: b64(`v${i}`) })
  await call('/v3/kv/deleterange', { key: b64('k2') })
  await call('/v3/kv/compaction', { revision: '4', physical: true })
  await call('/v3/kv/put', { key: b64('after'), value: b64('x') })

  const probes = [
    ['/v3/kv/range', { key: 'AA==', range_end: 'AA==' }],
    ['/v3/kv/range', { key: 'AA==', range_end: 'AA==', revision: '4' }],
    ['/v3/kv/range', { key: 'AA==', range_end: 'AA==', revision: '3' }],
    ['/v3/kv/range', { key: b64('k0'), revision: '9' }],
    ['/v3/kv/compaction', { revision: '4' }],
  ] as const
  const ask = () => Promise.all(probes.map(([path, body]) => call(path, body).then((r) => `${r.status} ${r.body}`)))
  const before = await ask()
  t.match(before[2], /^400 .*required revision has been compacted/, 'reads below the compaction fail')
  t.match(before[4], /^400 .*required revision has been compacted/, 'compacting again to the same revision fails')

  await server.restart()
  const after = await ask()
  // raft_term rises at every start, as etcd's does; everything else must be the same
  const sameTerm = (s: string) => s.replace(/"raft_term":"\d+"/g, '"raft_term":"T"')
  t.same(after.map(sameTerm), before.map(sameTerm), 'every answer is the same after the restart')
  const next = await call('/v3/kv/put', { key: b64('next'), value: b64('y') })
  t.match(next.body, /"revision":"9"/, 'writes continue at the next revision')
})
