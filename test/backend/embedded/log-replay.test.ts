/**
 * Writes are acknowledged once their batch's log record is flushed, before lmdb holds them: a store killed
 * (SIGKILL) then has them only in its log, and its next start writes them to lmdb before it answers.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { META, WriteRecorder } from '../../../src/backend/embedded/logged-writes.js'
import { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { frameRecord, WriteAheadLog } from '../../../src/backend/embedded/write-ahead-log.js'
import { Errors } from '../../../src/errors.js'
import { etcdgw } from '../../helpers/snapshot-workload.js'
import { startChild } from '../../helpers/store-child-run.js'
import { tempDir } from '../../helpers/temp-dir.js'

/** The acknowledged puts a child printed: key number → revision. */
function acknowledged(output: string): Map<number, number> {
  const acked = new Map<number, number>()
  for (const line of output.split('\n')) {
    const m = /^acked (\d+) (\d+)$/.exec(line)
    if (m) acked.set(Number(m[1]), Number(m[2]))
  }
  return acked
}

/** Whether `store` holds every acknowledged put, at its revision; the mismatches otherwise. */
function missing(store: MvccStore, acked: Map<number, number>): string[] {
  const view = store.read()
  const wrong: string[] = []
  for (const [n, rev] of acked) {
    const [kv] = view.range(Buffer.from(`acked/${n}`), undefined, { limit: 0, rev: 0, count: false }).kvs
    if (kv?.value.toString() !== String(n) || kv.modRevision !== rev) wrong.push(`acked/${n}@${rev}: ${kv ? `${kv.value}@${kv.modRevision}` : 'absent'}`)
  }
  return wrong
}

t.test('killed as a write is acknowledged: the write is in the log only, and there after the restart', async (t) => {
  const dir = tempDir(t, 'etcdgw-log-')
  const child = startChild(dir, 'last-acked')
  await child.printed('open')
  t.equal(await child.exited, 'SIGKILL', 'the child killed itself')
  const store = await MvccStore.open(dir)
  t.teardown(() => store.close())
  // the first put's batch may have been on its way into lmdb too
  t.ok(store.startup.batchesReplayed >= 1, `the start wrote the batches only the log held to the store file (${store.startup.batchesReplayed})`)
  t.same(missing(store, new Map([[0, 2], [1, 3]])), [], 'both puts are there, at their revisions')
  t.equal(store.committedRev, 3, 'and the revision is the last put')
  await store.close()
  const again = await MvccStore.open(dir)
  t.equal(again.startup.batchesReplayed, 0, 'a clean stop leaves nothing to the next start')
  t.same(missing(again, new Map([[0, 2], [1, 3]])), [], 'the puts are still there')
  await again.close()
})

t.test('killed at a random moment under 8 writers: every acknowledged put is there after the restart, at its revision', async (t) => {
  for (const delayMs of [30, 150, 400]) {
    const dir = tempDir(t, 'etcdgw-log-')
    const child = startChild(dir, 'acked')
    // from the first acknowledgement: the first put also makes the log's first segment, as slow as the disk
    await child.printed(/^acked /)
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    t.equal(await child.kill(), 'SIGKILL')
    const acked = acknowledged(child.output())
    const store = await MvccStore.open(dir)
    t.comment(`${acked.size} puts acknowledged, killed ${delayMs} ms after the first; the start wrote ${store.startup.batchesReplayed} logged batches to the store file`)
    t.ok(acked.size > 0, 'puts were acknowledged before the kill')
    t.same(missing(store, acked), [], `after a kill ${delayMs} ms after the first acknowledgement, every acknowledged put is there`)
    t.ok(store.committedRev >= Math.max(...acked.values()), 'the revision is at least the last acknowledged one')
    // what was logged and not acknowledged may be there too: the store continues after it, whole
    const rows = store.read().range(Buffer.from('acked/'), Buffer.from('acked0'), { limit: 0, rev: 0, count: true }).count
    t.equal(rows, store.committedRev - 1, 'one key a revision, none lost in between')
    await store.close()
  }
})

t.test('killed again as its next start writes the logged batches to the store file: the start after is correct', async (t) => {
  const dir = tempDir(t, 'etcdgw-log-')
  const child = startChild(dir, 'acked')
  await child.printed('open')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await child.kill(), 'SIGKILL')
  const acked = acknowledged(child.output())
  // the lmdb transaction of the replay is all or nothing: killed before, during or after it
  const starting = startChild(dir, 'open')
  await starting.printed('opening')
  t.equal(await starting.kill(), 'SIGKILL')
  t.comment(`the second start was killed ${starting.output().includes('open\n') ? 'after' : 'before'} it was open`)
  const store = await MvccStore.open(dir)
  t.same(missing(store, acked), [], `all ${acked.size} acknowledged puts are there`)
  const rows = store.read().range(Buffer.from('acked/'), Buffer.from('acked0'), { limit: 0, rev: 0, count: true }).count
  t.equal(rows, store.committedRev - 1, 'one key a revision, none lost in between')
  await store.close()
})

t.test('a damaged log (a batch missing before later ones): serve refuses to start with a clear error and leaves the files as they were', async (t) => {
  const dataDir = tempDir(t, 'etcdgw-log-')
  const store = await MvccStore.open(dataDir)
  await store.close()
  const member = join(dataDir, 'member')
  // the store file holds no logged batch; the log has batch 2 and not batch 1
  const { log } = WriteAheadLog.open(member, 0)
  log.start()
  const recorder = new WriteRecorder()
  recorder.put(META, 'x', 1)
  await log.append(2, frameRecord(recorder.take().record, 2))
  await log.close()
  // lmdb's lock file holds its readers' table, not data
  const files = () =>
    readdirSync(member)
      .filter((name) => !name.endsWith('-lock'))
      .map((name) => `${name} ${createHash('sha256').update(readFileSync(join(member, name))).digest('hex')}`)
  const before = files()
  const r = await etcdgw(['serve', '--data-dir', dataDir, '--listen-client-urls', 'http://127.0.0.1:0'])
  t.equal(r.code, 1, 'serve exits 1')
  t.equal(r.stderr, `etcdgw serve: ${Errors.logDamaged(member, 1).message}\n`, 'with the damage named, no stack trace')
  t.same(files(), before, 'the store file and the log are left as they were')
})
