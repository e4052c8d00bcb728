/**
 * The db-file reader against damaged files: each kind of damage gets its own error naming what is
 * wrong, and mutated real etcd snapshots (bytes flipped, the sha256 trailer recomputed so the damage
 * gets past it) never make status, get or restore fail any other way, nor give a store that fails
 * to serve.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { open } from 'lmdb'
import t, { type Test } from 'tap'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { EtcdError, GrpcCode } from '../../src/errors.js'
import { fnv64a } from '../../src/snapshot/bolt-format.js'
import { bufferEntry, layOutBolt } from '../../src/snapshot/bolt-writer.js'
import { snapshotRange } from '../../src/snapshot/get.js'
import { restoreSnapshot } from '../../src/snapshot/restore.js'
import { snapshotStatus } from '../../src/snapshot/status.js'
import { BUCKETS, encodeKeyValue, encodeRevKey } from '../../src/snapshot/etcd-db.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { applyWorkload, etcdctl, etcdgw } from '../helpers/snapshot-workload.js'

const PAGE = 4096
const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-bolt-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const withTrailer = (db: Buffer) => Buffer.concat([db, createHash('sha256').update(db).digest()])
const restoreFlags = { name: 'default', initialCluster: 'default=http://localhost:2380', initialClusterToken: 'etcd-cluster', skipHashCheck: false }
let files = 0

function write(bytes: Buffer): string {
  const file = join(tmp, `f${files++}.db`)
  writeFileSync(file, bytes)
  return file
}

/** A db of etcd's buckets with `n` revisions in `key`: a tree of several levels. */
async function craftedDb(n: number): Promise<Buffer> {
  const entries = Array.from({ length: n }, (_, i) =>
    bufferEntry(
      encodeRevKey(i + 2, 0),
      encodeKeyValue({ key: Buffer.from(`k${i}`), value: Buffer.alloc(100, i), createRevision: i + 2, modRevision: i + 2, version: 1, lease: 0n }),
    ),
  )
  const buckets = Object.values(BUCKETS)
    .sort()
    .map((name) => ({ name: Buffer.from(name), entries: () => (name === BUCKETS.key ? entries : []) }))
  const layout = await layOutBolt(buckets)
  const pages: Buffer[] = []
  for await (const p of layout.pages()) pages.push(...p)
  return Buffer.concat(pages)
}

/** Page `id`'s header fields and element `i` of it. */
const page = (db: Buffer, id: number) => db.subarray(id * PAGE, (id + 1) * PAGE)
const flagsOf = (db: Buffer, id: number) => page(db, id).readUInt16LE(8)

/** The page id of the `key` bucket's root (the root bucket is one leaf here). */
function keyBucketRoot(db: Buffer): number {
  const rootId = Number(db.readBigUInt64LE(16 + 16))
  const root = page(db, rootId)
  for (let i = 0; i < root.readUInt16LE(10); i++) {
    const el = 16 + i * 16
    const pos = el + root.readUInt32LE(el + 4)
    const key = root.subarray(pos, pos + root.readUInt32LE(el + 8)).toString()
    if (key === BUCKETS.key) return Number(root.readBigUInt64LE(pos + key.length))
  }
  throw new Error('no key bucket')
}

/** Rewrites a meta page's field and its checksum. */
function setMeta(db: Buffer, metaPage: number, offset: number, value: bigint): void {
  const m = db.subarray(metaPage * PAGE + 16, metaPage * PAGE + 16 + 64)
  m.writeBigUInt64LE(value, offset)
  m.writeBigUInt64LE(fnv64a(m.subarray(0, 56)), 56)
}

function expectBad(t: Test, file: string, message: RegExp, what: string): void {
  t.throws(() => snapshotStatus(file), { grpcCode: GrpcCode.DataLoss, code: 'ETCDGW_ERR_SNAPSHOT_INVALID', message }, what)
}

t.test('each kind of damage is named', async (t) => {
  const good = await craftedDb(3000)
  const keyRoot = keyBucketRoot(good)
  t.equal(flagsOf(good, keyRoot), 0x01, 'the key bucket is a tree of branch pages over leaves')
  t.equal(snapshotStatus(write(withTrailer(good))).totalKey, 3000)

  expectBad(t, write(good.subarray(0, good.length - 3 * PAGE)), /truncated: the db has \d+ pages/, 'truncated')
  expectBad(t, write(Buffer.alloc(10)), /not a bbolt db: meta page 0: past the end/, 'too short')

  const bothMetas = Buffer.from(good)
  bothMetas[16 + 20]! ^= 1
  bothMetas[PAGE + 16 + 20]! ^= 1
  expectBad(t, write(bothMetas), /not a bbolt db: meta page 0: checksum mismatch; meta page 1: checksum mismatch/, 'both meta checksums')

  const oneMeta = Buffer.from(good)
  oneMeta[16 + 20]! ^= 1
  t.equal(snapshotStatus(write(oneMeta)).totalKey, 3000, 'one damaged meta page: the other one is used, as bbolt does')

  const pastEnd = Buffer.from(good)
  page(pastEnd, keyRoot).writeBigUInt64LE(999_999n, 16 + 8)
  expectBad(t, write(pastEnd), new RegExp(`bucket "key": page ${keyRoot} element 0: page id 999999 is outside the db`), 'a page id past the end')

  const cycle = Buffer.from(good)
  page(cycle, keyRoot).writeBigUInt64LE(BigInt(keyRoot), 16 + 8)
  expectBad(t, write(cycle), new RegExp(`page ${keyRoot} is referenced twice \\(a cycle`), 'a page cycle')

  const child = Number(page(good, keyRoot).readBigUInt64LE(16 + 8))
  const wrongId = Buffer.from(good)
  page(wrongId, child).writeBigUInt64LE(BigInt(child + 1), 0)
  expectBad(t, write(wrongId), new RegExp(`page ${child} says it is page ${child + 1}`), 'a page holding another id')

  const notLeaf = Buffer.from(good)
  page(notLeaf, child).writeUInt16LE(0x10, 8)
  expectBad(t, write(notLeaf), new RegExp(`page ${child} is neither a branch nor a leaf`), 'a freelist page in a tree')

  const overrun = Buffer.from(good)
  page(overrun, child).writeUInt32LE(PAGE, 16 + 12)
  expectBad(t, write(overrun), new RegExp(`page ${child} element 0 .* runs past the page`), 'an element past its page')

  const manyElements = Buffer.from(good)
  page(manyElements, child).writeUInt16LE(0xffff, 10)
  expectBad(t, write(manyElements), new RegExp(`page ${child}'s 65535 elements run past the page`), 'an element count past the page')

  const overflow = Buffer.from(good)
  page(overflow, child).writeUInt32LE(0xffff_ffff, 12)
  expectBad(t, write(overflow), new RegExp(`page ${child} overflows 4294967295 pages, past the db's end`), 'an overflow past the end')

  const order = Buffer.from(good)
  const leaf = page(order, child)
  const k0 = 16 + leaf.readUInt32LE(16 + 4)
  leaf[k0 + 7] = 0xff
  expectBad(t, write(order), /keys out of order/, 'keys out of order')

  const highWater = Buffer.from(good)
  setMeta(highWater, 0, 40, 2n)
  setMeta(highWater, 1, 40, 2n)
  expectBad(t, write(highWater), /high-water mark 2/, 'a high-water mark below the meta pages')

  // the CLI: one line on stderr and exit code 1, never a stack trace, for each command
  for (const args of [['status', cycle], ['get', cycle, 'k', '--prefix'], ['restore', cycle, '--data-dir', join(tmp, 'cli-restore')]]) {
    const file = write(withTrailer(args[1]! as Buffer))
    const r = await etcdgw(['snapshot', args[0] as string, file, ...(args.slice(2) as string[])])
    t.same([r.code, r.stderr.trim().split('\n').length], [1, 1], `etcdgw snapshot ${args[0]}: ${r.stderr.trim()}`)
    t.match(r.stderr, new RegExp(`^Error: snapshot: ${file}: bucket "key": page \\d+ is referenced twice`))
  }

  const record = Buffer.from(good)
  const rl = page(record, child)
  const v0 = 16 + rl.readUInt32LE(16 + 4) + rl.readUInt32LE(16 + 8)
  rl[v0] = 0x0f // field 1 with wire type 7
  const bad = write(withTrailer(record))
  t.throws(() => snapshotRange(bad, { key: Buffer.from('k'), rangeEnd: Buffer.from([0]), revision: 0, keysOnly: false }), { message: /mvccpb.KeyValue record does not decode/ })
  await t.rejects(restoreSnapshot(bad, { ...restoreFlags, dataDir: join(tmp, 'bad-record') }), { message: /mvccpb.KeyValue record does not decode/ })
})

t.test('a snapshot in etcdgw\'s old format (an lmdb file) is named as such', async (t) => {
  const dir = join(tmp, 'old-format')
  const env = open({ path: join(dir, 'store.mdb'), maxDbs: 8 })
  await env.openDB({ name: 'revisions' }).put('k', 'v')
  await env.close()
  const file = write(withTrailer(readFileSync(join(dir, 'store.mdb'))))
  expectBad(t, file, /an etcdgw snapshot in its old format \(an lmdb file\): restore it with the etcdgw that made it/, 'status')
  await t.rejects(restoreSnapshot(file, { ...restoreFlags, dataDir: join(tmp, 'old-restored') }), { message: /old format/ }, 'restore')
})

t.test('mutated real snapshots: every failure is a named error, every restored store serves', { skip: etcdMissing() }, async (t) => {
  const etcd = await startEtcd({ teardown: t, fastElection: true })
  await applyWorkload(etcd.url)
  const file = join(tmp, 'real.db')
  t.equal((await etcdctl(['--endpoints', etcd.url, 'snapshot', 'save', file])).code, 0)
  const real = readFileSync(file)
  const db = real.subarray(0, real.length - 32)
  // where damage matters: bytes that are not page padding
  const used = [...db.keys()].filter((i) => db[i] !== 0 || i % PAGE < 64)
  let seed = 20261205
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0
    return seed % n
  }
  const outcomes = { ok: 0, named: 0, restored: 0 }
  for (let round = 0; round < 300; round++) {
    const mutated = Buffer.from(db)
    for (let flips = 1 + random(4); flips > 0; flips--) mutated[used[random(used.length)]!]! ^= 1 << random(8)
    const path = write(withTrailer(mutated))
    const dataDir = join(tmp, `r${round}`)
    const attempts: Array<() => unknown> = [
      () => snapshotStatus(path),
      () => snapshotRange(path, { key: Buffer.from([0]), rangeEnd: Buffer.from([0]), revision: 0, keysOnly: false }),
      () => restoreSnapshot(path, { ...restoreFlags, dataDir }),
    ]
    for (const attempt of attempts) {
      try {
        await attempt()
        outcomes.ok++
      } catch (err) {
        if (!(err instanceof EtcdError)) t.fail(`round ${round}: ${(err as Error).stack}`)
        outcomes.named++
      }
    }
    if (round % 10 === 0) {
      try {
        const backend = await openEmbeddedBackend({ dataDir, name: 'default', maxTxnOps: 128 })
        await backend.kv.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0 })
        await backend.close()
        outcomes.restored++
      } catch (err) {
        if (!(err instanceof EtcdError) && !/ENOENT/.test((err as Error).message)) t.fail(`round ${round}: serve on the restored store: ${(err as Error).stack}`)
      }
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  t.ok(outcomes.named > 0 && outcomes.ok > 0, `outcomes: ${JSON.stringify(outcomes)}`)
})
