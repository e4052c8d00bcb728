/**
 * The CLI's reading of a gateway's snapshot as the file's bytes (application/octet-stream): the data
 * in chunks with what remains, the sha256 as the last chunk, and a response cut short named as such.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import type { SnapshotChunk } from '../../src/backend/backend.js'
import { gatewaySnapshot } from '../../src/cli/gateway-snapshot.js'

/** A gateway whose snapshot route answers with `respond`; resolves to its URL and the Accept it was sent. */
async function gateway(t: Test, respond: (res: ServerResponse) => void): Promise<{ url: string; accept: () => string | undefined }> {
  let accept: string | undefined
  const server = createServer((req, res) => {
    accept = req.headers.accept
    req.resume()
    req.on('end', () => respond(res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accept: () => accept }
}

async function all(chunks: AsyncIterable<SnapshotChunk>): Promise<SnapshotChunk[]> {
  const got: SnapshotChunk[] = []
  for await (const c of chunks) got.push(c)
  return got
}

t.test('the file in chunks as they come, then the sha256 on its own', async (t) => {
  const db = Buffer.alloc(100_000, 7)
  const sha = Buffer.alloc(32, 9)
  const gw = await gateway(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': db.length + sha.length })
    // the sha256 arrives split across two writes, with the db's last bytes
    res.write(db.subarray(0, 60_000))
    res.write(Buffer.concat([db.subarray(60_000), sha.subarray(0, 10)]))
    res.end(sha.subarray(10))
  })
  const chunks = await all(gatewaySnapshot(gw.url))
  t.match(gw.accept(), /application\/octet-stream/)
  const last = chunks.pop()!
  t.same(last, { remainingBytes: 0, blob: sha })
  t.same(Buffer.concat(chunks.map((c) => c.blob)), db)
  let remaining = db.length
  for (const c of chunks) t.equal(c.remainingBytes, (remaining -= c.blob.length))
})

t.test('a response cut short is an error naming how much came', async (t) => {
  const gw = await gateway(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 })
    res.write(Buffer.alloc(500), () => res.destroy())
  })
  await t.rejects(all(gatewaySnapshot(gw.url)), { message: 'snapshot: the stream was cut short after 500 of 1000 bytes' })
})
