/**
 * A defragment on a disk without room for its copy, on real etcd and on etcdgw: the same answer (HTTP 500,
 * code 2 with the file system's reason, as etcd answers a copy it cannot write), the data still served,
 * and a defragment that succeeds once space is freed.
 */
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { rmSync, statfsSync } from 'node:fs'
import { etcdMissing, type Server, startOurs, startRealEtcd } from '../helpers/servers.js'
import { b64, post } from '../helpers/stream-clients.js'
import { cannotMount, fill, smallDisk } from '../helpers/tmpfs.js'

const KEYS = 40
const VALUE = Buffer.alloc(300_000, 7).toString('base64')
/** etcd preallocates 64 MB of WAL; the data takes ~20 MB in its file, ~12 MB in etcdgw's. */
const DISK_MB = 160

function usedBytes(disk: string): number {
  const fs = statfsSync(disk)
  return (fs.blocks - fs.bfree) * fs.bsize
}

async function defragmentOnFullDisk(disk: string, url: string) {
  const call = async (path: string, body: unknown = {}) => {
    const res = await post(url, path, JSON.stringify(body))
    return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> }
  }
  for (let i = 0; i < KEYS; i++) {
    const res = await call('/v3/kv/put', { key: b64(`k${i}`), value: VALUE })
    if (res.status !== 200) throw new Error(`put ${i}: ${res.status} ${JSON.stringify(res.json)}`)
  }
  // etcd makes its next WAL file (64 MB) in the background: the disk is filled once its use stays put
  for (let used = -1; used !== usedBytes(disk); ) {
    used = usedBytes(disk)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  const filler = fill(disk, 2_000_000)
  const refused = await call('/v3/maintenance/defragment')
  const { error, message, code } = refused.json as { error: string; message: string; code: number }
  const count = async () => (await call('/v3/kv/range', { key: b64('k'), range_end: b64('l'), count_only: true })).json.count
  const seen = {
    refused: `${refused.status} code ${code}`,
    saysWhy: /no space left on device/i.test(message) && error === message,
    hash: (await call('/v3/maintenance/hash')).status,
    count: await count(),
    defragmentAfterSpaceFreed: '',
    countAfter: '',
  }
  rmSync(filler)
  const done = await call('/v3/maintenance/defragment')
  seen.defragmentAfterSpaceFreed = `${done.status} ${JSON.stringify(done.json)}`
  seen.countAfter = String(await count())
  return { seen, message }
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const seen: Record<string, Awaited<ReturnType<typeof defragmentOnFullDisk>>['seen']> = {}
  const targets: [string, (t: Test, dataDir: string) => Promise<Server>][] = [
    ['etcd', (t, dataDir) => startRealEtcd(t, ['--data-dir', dataDir])],
    ['etcdgw', (t, dataDir) => startOurs(t, { backend: { dataDir } })],
  ]
  for (const [name, start] of targets) {
    await t.test(name, { skip: cannotMount() }, async (t) => {
      const disk = smallDisk(t, DISK_MB)
      const server = await start(t, join(disk, 'data'))
      const run = await defragmentOnFullDisk(disk, server.url)
      seen[name] = run.seen
      t.match(run.seen, { refused: '500 code 2', saysWhy: true }, `refused: ${run.message}`)
    })
  }
  t.same(seen.etcdgw, seen.etcd, 'etcdgw as etcd')
}
