/**
 * The key index saved as restart state: a restart from it answers as a rebuild from the rows does, at
 * every revision kept; a state that is stale, corrupt or cut short is never used; and a store killed
 * (SIGKILL) while it rebuilds its index, while it saves the state, or after writes and a compaction
 * that followed a save, starts correctly next time. The snapshot's `key` bucket layout it loads with it is
 * that of every row.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, truncateSync, watch, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { KeyIndex } from '../../../src/backend/embedded/key-index.js'
import { LeaseAttachments } from '../../../src/backend/embedded/lease-attachments.js'
import { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import { decodeRestartState, RESTART_STATE_FILE } from '../../../src/backend/embedded/restart-state.js'
import { keyBucketShapes } from '../../helpers/key-bucket-shapes.js'
import { startChild } from '../../helpers/store-child-run.js'
import { tempDir } from '../../helpers/temp-dir.js'
import { answersDump, indexDump, leaseDump, writeMixed, writeWorkload } from '../../helpers/store-workload.js'


interface Snapshot {
  index: string[]
  leases: string[][]
  answers: string[]
  rev: number
  compactRev: number
}

async function open(dir: string) {
  const attachments = new LeaseAttachments()
  return { store: await MvccStore.open(dir, attachments), attachments }
}

function snapshot({ store, attachments }: Awaited<ReturnType<typeof open>>): Snapshot {
  return { index: indexDump(store.index), leases: leaseDump(attachments), answers: answersDump(store), rev: store.committedRev, compactRev: store.compactRev }
}

const stateFile = (dir: string) => join(dir, 'member', RESTART_STATE_FILE)

/** Opens the store, checks how it started and what it answers, closes it (saving the state again). */
async function openAndSnapshot(t: Test, dir: string, fromRestartState: boolean): Promise<Snapshot & { rowsRead: number }> {
  const opened = await open(dir)
  t.equal(opened.store.startup.fromRestartState, fromRestartState, fromRestartState ? 'started from the restart state' : 'rebuilt from the rows')
  const seen = { ...snapshot(opened), rowsRead: opened.store.startup.rowsRead }
  const shapes = await keyBucketShapes(opened.store)
  t.same(shapes.kept, shapes.full, `a snapshot's key bucket, laid out on from what was kept (through ${shapes.keptThrough}), is that of every row`)
  await opened.store.close()
  return seen
}

/** What a start-up that rebuilds the index from the rows alone answers. */
async function rebuilt(t: Test, dir: string): Promise<Snapshot> {
  rmSync(stateFile(dir), { force: true })
  const { rowsRead: _, ...seen } = await openAndSnapshot(t, dir, false)
  return seen
}

function same(t: Test, found: Snapshot, wanted: Snapshot, what: string): void {
  t.equal(found.rev, wanted.rev, `${what}: revision`)
  t.equal(found.compactRev, wanted.compactRev, `${what}: compaction`)
  t.ok(found.index.length > 0 && found.index.join('\n') === wanted.index.join('\n'), `${what}: every key's revisions (${wanted.index.length} keys)`)
  t.same(found.leases, wanted.leases, `${what}: lease attachments`)
  t.same(found.answers, wanted.answers, `${what}: ranges at every revision kept (${wanted.answers.length})`)
}


t.test('a restart from the restart state answers as before it, at every revision kept', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const first = await open(dir)
  await writeWorkload(first.store, 20_000, 30)
  await (await first.store.compact(first.store.committedRev - 20)).physical
  await writeWorkload(first.store, 20_000, 5, 3)
  const before = snapshot(first)
  await first.store.close()
  t.ok(existsSync(stateFile(dir)), 'a clean close saves the restart state')
  const restarted = await openAndSnapshot(t, dir, true)
  t.equal(restarted.rowsRead, 0, 'no row read back')
  same(t, restarted, before, 'restarted')
  same(t, await rebuilt(t, dir), before, 'rebuilt from the rows')
  // the rebuild's close saved the state again
  same(t, await openAndSnapshot(t, dir, true), before, 'restarted after the rebuild')
})

t.test('a state file that is cut short, altered or older than the store is not used', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const first = await open(dir)
  await writeWorkload(first.store, 3000, 10)
  await first.store.close()
  const old = join(dir, 'old.state')
  copyFileSync(stateFile(dir), old)
  const second = await open(dir)
  await writeWorkload(second.store, 3000, 5, 2)
  const wanted = snapshot(second)
  await second.store.close()
  const saved = readFileSync(stateFile(dir))

  truncateSync(stateFile(dir), saved.length - 100)
  same(t, await openAndSnapshot(t, dir, false), wanted, 'cut short')
  const altered = Buffer.from(saved)
  altered[altered.length >> 1]! ^= 0x10
  writeFileSync(stateFile(dir), altered)
  same(t, await openAndSnapshot(t, dir, false), wanted, 'one bit flipped')
  copyFileSync(old, stateFile(dir))
  same(t, await openAndSnapshot(t, dir, false), wanted, 'an earlier save')
  writeFileSync(stateFile(dir), '')
  same(t, await openAndSnapshot(t, dir, false), wanted, 'empty')
  same(t, await openAndSnapshot(t, dir, true), wanted, 'the state saved at the last close')
})

t.test('a save while a write is applied but not yet durable holds what was durable', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const { store, attachments } = await open(dir)
  await writeWorkload(store, 300, 2)
  const leases = () => [...attachments.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
  const durable = { index: indexDump(store.index), leases: leases() }
  const written = writeMixed(store)
  t.notSame(leases(), durable.leases, 'the write moved leases as it was applied')
  const saved = store.saveRestartState()
  await written
  t.ok(await saved, 'saved')
  const state = decodeRestartState(readFileSync(stateFile(dir)))!
  t.same([...state.leases.map(({ key, lease }): [string, bigint] => [key, lease])].sort(([a], [b]) => (a < b ? -1 : 1)), durable.leases, 'the leases as they were durably')
  const index = new KeyIndex()
  index.load(state.keyCount, state.addKeys)
  t.same(indexDump(index), durable.index, "every key's revisions as they were durably")
  await store.close()
})

t.test('a save encodes the index a slice per turn: writes durable meanwhile are left to the rows after it, a compaction meanwhile drops it', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const { store } = await open(dir)
  await writeWorkload(store, 60_000, 2)
  const durable = { index: indexDump(store.index), rev: store.committedRev }
  const saved = store.saveRestartState()
  await writeMixed(store)
  t.ok(store.committedRev > durable.rev, 'a write became durable while the save went on')
  t.ok(await saved, 'saved')
  const state = decodeRestartState(readFileSync(stateFile(dir)))!
  t.equal(state.rev, durable.rev, 'the state names the revision durable when it began')
  const index = new KeyIndex()
  index.load(state.keyCount, state.addKeys)
  t.same(indexDump(index), durable.index, "every key's revisions as they were at that revision")

  const before = readFileSync(stateFile(dir))
  const dropped = store.saveRestartState()
  await new Promise((resolve) => setImmediate(resolve))
  await store.compact(store.committedRev)
  t.notOk(await dropped, 'a save that a compaction overtook is not made')
  t.same(readFileSync(stateFile(dir)), before, 'the file is the earlier save')
  await store.close()
})

t.test('the decoder refuses every truncation and every flipped byte of a state', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const { store } = await open(dir)
  await writeWorkload(store, 300, 5)
  await store.close()
  const bytes = readFileSync(stateFile(dir))
  t.ok(decodeRestartState(bytes), 'the file as saved decodes')
  let accepted = 0
  for (let length = 0; length < bytes.length; length += 97) if (decodeRestartState(bytes.subarray(0, length))) accepted++
  for (let at = 0; at < bytes.length; at += 89) {
    const flipped = Buffer.from(bytes)
    flipped[at]! ^= 0x01
    if (decodeRestartState(flipped)) accepted++
  }
  t.equal(accepted, 0, 'none accepted')
})

t.test('killed while rebuilding its index at start-up: the next start is correct', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const first = await open(dir)
  await writeWorkload(first.store, 20_000, 10)
  await first.store.close()
  const wanted = await rebuilt(t, dir)
  for (const delayMs of [0, 30, 100]) {
    rmSync(stateFile(dir), { force: true })
    const child = startChild(dir, 'open')
    await child.printed('opening')
    await new Promise((resolve) => setTimeout(resolve, delayMs))
    t.equal(await child.kill(), 'SIGKILL')
    t.comment(`killed ${delayMs} ms after it began to open, ${child.output().includes('open\n') ? 'after' : 'before'} its index was ready`)
    same(t, await openAndSnapshot(t, dir, false), wanted, `after a kill ${delayMs} ms into the start-up`)
  }
})

t.test('killed while saving the restart state: the next start is correct', async (t) => {
  const dir = tempDir(t, 'etcdgw-restart-')
  const child = startChild(dir, 'save-loop')
  await child.printed('saved 1')
  // the next save's file appears under its temporary name while it is written
  let watcher: ReturnType<typeof watch> | undefined
  await new Promise<void>((resolve) => {
    watcher = watch(join(dir, 'member'), (_event, name) => {
      if (name === `${RESTART_STATE_FILE}.part`) resolve()
    })
  })
  t.equal(await child.kill(), 'SIGKILL')
  watcher!.close()
  const opened = await open(dir)
  // killed before the new file took the old one's name, the old one is used; after, the store file may not
  // yet name the new one (then the index is rebuilt)
  const { fromRestartState, rowsRead } = opened.store.startup
  t.comment(fromRestartState ? `started from a whole save and ${rowsRead} rows after it` : `rebuilt from ${rowsRead} rows`)
  const found = snapshot(opened)
  await opened.store.close()
  t.notOk(existsSync(`${stateFile(dir)}.part`), 'the partial file is gone')
  same(t, found, await rebuilt(t, dir), 'from the state and the rows after it')
})

/** A child store killed at a step of its own: whether the next open uses the restart state, and how it is checked. */
const killedAfter: Array<[name: string, step: string, fromState: boolean]> = [
  ['killed after writes that followed a save: the state and the rows after it', 'tail', true],
  ['saved while a write was applied but not yet durable, then killed: the state leaves that write to the rows after it', 'busy', true],
  ['killed after a compaction past the last save: the state is not used', 'compacted', false],
]
for (const [name, step, fromState] of killedAfter) {
  t.test(name, async (t) => {
    const dir = tempDir(t, 'etcdgw-restart-')
    const child = startChild(dir, step)
    await child.printed('written')
    t.equal(await child.kill(), 'SIGKILL')
    const found = await openAndSnapshot(t, dir, fromState)
    if (fromState) t.ok(found.rowsRead > 0, `${found.rowsRead} rows read back`)
    same(t, found, await rebuilt(t, dir), fromState ? 'from the state and the rows after it' : 'rebuilt')
  })
}
