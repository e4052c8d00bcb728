/**
 * A store with tens of thousands of keys and their history: killed with SIGKILL at moments spread over its
 * start-up (while the key index is being rebuilt), it still answers every read at every kept revision as
 * before, and so it does after a start that completes.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MvccStore } from '../../src/backend/embedded/mvcc-store.js'
import { MAIN_JS } from '../helpers/gateway.js'
import { freePort, spawnServer } from '../helpers/process.js'

const KEYS = 40_000
const BATCH = 128
const keyOf = (i: number) => Buffer.from(`large/${String(i).padStart(6, '0')}`)

async function load(store: MvccStore): Promise<void> {
  for (let first = 0; first < KEYS; first += BATCH) {
    const txn = store.write()
    for (let i = first; i < Math.min(first + BATCH, KEYS); i++) txn.put(keyOf(i), Buffer.from(`v${i}`), 0n)
    await txn.end()
  }
  // history above the load: overwrites and deletes of ranges
  for (let n = 0; n < 60; n++) {
    const txn = store.write()
    if (n % 3 === 0) txn.deleteRange(keyOf(n * 400), keyOf(n * 400 + 50))
    else for (let i = 0; i < 20; i++) txn.put(keyOf((n * 613 + i * 97) % KEYS), Buffer.from(`w${n}`), 0n)
    await txn.end()
  }
}

/** Counts, pages and counts of subranges at every tenth kept revision and the newest; a digest of the newest. */
function answers(store: MvccStore): string[] {
  const view = store.read()
  const out: string[] = []
  const all = Buffer.alloc(0)
  const revs: number[] = []
  for (let rev = Math.max(store.compactRev, 1); rev < view.rev; rev += 10) revs.push(rev)
  for (const rev of [...revs, view.rev]) {
    const count = view.range(Buffer.from('\0'), all, { limit: 0, rev, count: true }).count
    const page = view.range(keyOf(rev % KEYS), keyOf((rev % KEYS) + 5000), { limit: 100, rev, count: false })
    out.push(`${rev}: ${count} ${page.count} ${page.kvs.map((kv) => `${kv.key}=${kv.value}@${kv.modRevision}/${kv.version}`).join(',')}`)
  }
  let digest = 0
  for (const kv of view.range(Buffer.from('\0'), all, { limit: 0, rev: 0, count: false }).kvs) {
    for (const b of Buffer.concat([kv.key, kv.value])) digest = (digest * 31 + b) | 0
  }
  out.push(`digest ${digest}`)
  return out
}

/** Starts `serve` on the data dir; resolves with the process and the ms until it served (or undefined if killed before). */
async function serveUntil(root: string, dataDir: string, logFile: string, killAfterMs: number | undefined) {
  const port = await freePort()
  const started = Date.now()
  const args = [MAIN_JS, 'serve', '--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dataDir]
  // the temporary root goes too if this test process is killed
  const proc = spawnServer(process.execPath, args, logFile, root)
  const served = () => /serving the etcd v3 API/.test(readFileSync(logFile, 'utf8'))
  if (killAfterMs !== undefined) {
    await sleep(killAfterMs)
    const wasServing = served()
    await proc.kill('SIGKILL')
    return { wasServing, ms: killAfterMs }
  }
  while (!served()) {
    if (proc.hasExited()) throw new Error(`serve exited:\n${proc.logTail()}`)
    if (Date.now() - started > 60_000) throw new Error(`serve did not start:\n${proc.logTail()}`)
    await sleep(10)
  }
  const ms = Date.now() - started
  await proc.kill('SIGKILL')
  return { wasServing: true, ms }
}

t.test('SIGKILL during start-up leaves a store that answers as before', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'etcdgw-restart-large-'))
  t.teardown(() => rmSync(root, { recursive: true, force: true }))
  const dataDir = join(root, 'data')
  let starts = 0
  const logFile = () => join(root, `serve-${++starts}.log`)
  let store = await MvccStore.open(dataDir)
  await load(store)
  await (await store.compact(store.committedRev - 40)).physical
  const before = answers(store)
  await store.close()

  const full = await serveUntil(root, dataDir, logFile(), undefined)
  t.pass(`a full start took ${full.ms} ms`)
  for (const share of [0.3, 0.55, 0.8]) {
    const killed = await serveUntil(root, dataDir, logFile(), Math.round(full.ms * share))
    t.pass(`killed after ${killed.ms} ms${killed.wasServing ? ', already serving' : ', while starting'}`)
  }
  store = await MvccStore.open(dataDir)
  t.same(answers(store), before, 'every kept revision answers as before')
  await store.close()
})
