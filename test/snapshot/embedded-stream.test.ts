/**
 * The embedded store's snapshot stream is written as it is read from one read transaction: unread
 * snapshot requests leave no file in the data dir and cost no memory of the store's size, writes and
 * a defragment go on meanwhile, and each stream is the store as it was when it started.
 */
import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { etcdBuckets, SNAPSHOT_TABLES } from '../../src/backend/embedded/etcd-snapshot.js'
import { MvccStore } from '../../src/backend/embedded/mvcc-store.js'
import { saveSnapshot } from '../../src/cli/snapshot.js'
import { layOutBolt } from '../../src/snapshot/bolt-writer.js'
import { snapshotRange } from '../../src/snapshot/get.js'
import { snapshotStatus } from '../../src/snapshot/status.js'
import { post } from '../helpers/http.js'
import { startOurs } from '../helpers/servers.js'

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64')

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0)

t.test('20 unread snapshot streams: no file, writes and defragment go on, each stream is its moment', async (t) => {
  const server = await startOurs(t)
  const { url, dataDir: dir } = server
  const value = b64(Buffer.alloc(20_000, 1))
  for (let i = 0; i < 200; i++) await post(url, '/v3/kv/put', JSON.stringify({ key: b64(`k${i}`), value }))
  const before = { files: readdirSync(dir).sort(), bytes: dirBytes(dir) }

  const paused = await Promise.all(
    Array.from({ length: 20 }, () =>
      new Promise<ClientRequest & { res: IncomingMessage; first: Buffer }>((resolve, reject) => {
        const req = request(`${url}/v3/maintenance/snapshot`, { method: 'POST' }, (res) => {
          res.once('data', (first: Buffer) => {
            res.pause()
            resolve(Object.assign(req, { res, first }))
          })
        })
        req.on('error', reject)
        req.end('{}')
      }),
    ),
  )
  t.teardown(() => paused.forEach((r) => r.destroy()))
  t.same(readdirSync(dir).sort(), before.files, 'no file in the data dir for them')

  const put = await post(url, '/v3/kv/put', JSON.stringify({ key: b64('during'), value: b64('x') }))
  t.equal(put.status, 200, 'writes go on')
  const defrag = await post(url, '/v3/maintenance/defragment', '{}', { timeoutMs: 20_000 })
  t.equal(defrag.status, 200, `defragment goes on: ${defrag.body}`)
  const range = await post(url, '/v3/kv/range', JSON.stringify({ key: b64('during') }))
  t.match(range.body, b64('during'), 'and reads')
  t.ok(dirBytes(dir) < before.bytes + 8 * 1024 * 1024, `the data dir did not grow by copies (${before.bytes} → ${dirBytes(dir)} bytes)`)

  // a stream started before the defragment ends as it began: the store before 'during'
  const { res, first } = paused[0]!
  const chunks = [first]
  res.on('data', (c: Buffer) => chunks.push(c))
  res.resume()
  await new Promise((resolve) => res.on('end', resolve))
  const lines = Buffer.concat(chunks).toString().trim().split('\n').map((l) => JSON.parse(l) as { result: { blob: string } })
  const early = join(dir, '..', `${dir.split('/').pop()}-early.db`)
  t.teardown(() => rmSync(early, { force: true }))
  writeFileSync(early, Buffer.concat(lines.map((l) => Buffer.from(l.result.blob, 'base64'))))
  t.same(snapshotRange(early, { key: Buffer.from('during'), rangeEnd: undefined, revision: 0, keysOnly: false }).kvs, [], 'a stream started before a write does not have it')
  t.equal(snapshotRange(early, { key: Buffer.from('k'), rangeEnd: Buffer.from('l'), revision: 0, keysOnly: false }).count, 200)

  const file = join(dir, '..', `${dir.split('/').pop()}.db`)
  t.teardown(() => rmSync(file, { force: true }))
  await saveSnapshot(url, file)
  t.equal(snapshotStatus(file).totalKey > 200, true, 'a stream after them is whole')
  const got = snapshotRange(file, { key: Buffer.from('during'), rangeEnd: undefined, revision: 0, keysOnly: false })
  t.equal(got.kvs[0]?.value.toString(), 'x')
})

t.test('a snapshot of a store whose lease table nothing has opened yet', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-stream-bare-'))
  const store = await MvccStore.open(dir)
  t.teardown(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const txn = store.readTransaction(SNAPSHOT_TABLES)
  try {
    const layout = await layOutBolt(etcdBuckets(txn))
    let bytes = 0
    for await (const pages of layout.pages()) for (const page of pages) bytes += page.length
    t.equal(bytes, layout.size, 'the whole db, as laid out')
  } finally {
    txn.done()
  }
})
