import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import type { WatchResponse } from '../../src/backend/backend.js'
import { put, watchCreate } from '../helpers/requests.js'

t.test('a stream knows its live watches: created, then canceled by the client or by compaction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-ws-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'test', maxTxnOps: 128 })
  t.teardown(async () => {
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  for (let i = 0; i < 3; i++) await backend.kv.put(put({ key: 'k', value: String(i) }))
  await backend.kv.compact({ revision: 3, physical: true })
  const got: WatchResponse[] = []
  const stream = backend.watch.open((r) => got.push(r))
  stream.send({ kind: 'create', request: watchCreate({ key: 'a' }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'b', rangeEnd: 'a' }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'a', watchId: 5 }) })
  stream.send({ kind: 'create', request: watchCreate({ key: 'k', startRevision: 1 }) })
  t.same([...stream.liveWatchIds].sort(), [0, 5], 'the refused and the compacted ones are not live')
  t.same(got.map((r) => [r.watchId, r.created, r.canceled, r.compactRevision]), [
    [0, true, false, 0],
    [-1, true, true, 0],
    [5, true, false, 0],
    [1, true, false, 0],
    [1, false, true, 3],
  ])
  t.equal(got[1]!.cancelReason, 'mvcc: watcher range is empty')
  stream.send({ kind: 'cancel', request: { watchId: 0 } })
  stream.send({ kind: 'cancel', request: { watchId: 42 } })
  t.same([...stream.liveWatchIds], [5])
  t.same(got.slice(5).map((r) => [r.watchId, r.canceled]), [[0, true]], 'an unknown id is ignored')
  // a compacted watch keeps its id: the next automatic id skips it
  stream.send({ kind: 'create', request: watchCreate({ key: 'a' }) })
  t.equal(got.at(-1)!.watchId, 2)
  stream.close()
  t.same(stream.liveWatchIds.size, 0)
  const before = got.length
  await backend.kv.put(put({ key: 'a', value: 'x' }))
  t.equal(got.length, before, 'nothing after close')
})
