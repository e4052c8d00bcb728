/**
 * Counts and pages of ranges, at the newest and at past revisions, equal what a full scan of a reference
 * model gives, under random puts, deletes and compactions. Writes touch many keys per revision, so a count
 * far in the past takes the walk over the range and a recent one the correction from the rows since.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RESTART_STATE_FILE } from '../../../src/backend/embedded/restart-state.js'
import { openTestStore } from '../../helpers/embedded-store.js'
import { seededRandom, testSeed } from '../../helpers/seeded-random.js'
import type { MvccStore } from '../../../src/backend/embedded/mvcc-store.js'
import type { ReadView } from '../../../src/backend/embedded/views.js'

const seed = testSeed('RANGE_COUNT_SEED')
const KEYS = 300

type State = ReadonlyMap<string, string>

/** The expected answer, by a scan of every key the model has at that revision. */
function expected(state: State, from: string, end: string | undefined, limit: number) {
  const keys = [...state.keys()].filter((k) => (end === undefined ? k === from : k >= from && (end === '' || k < end))).sort()
  return { count: keys.length, kvs: (limit > 0 ? keys.slice(0, limit) : keys).map((k) => `${k}=${state.get(k)}`) }
}

t.test(`counts and pages equal a full scan (RANGE_COUNT_SEED=${seed})`, async (t) => {
  const rnd = seededRandom(seed)
  const opened = await openTestStore(t)
  let store = opened.store
  /** The model's state at every revision since the store began (index = revision). */
  const states: State[] = [new Map(), new Map()]
  // latin1 keys whose byte order differs from a naive sort of decoded text
  const keyAt = (n: number) => (n % 7 === 0 ? `\xff${n}` : `k/${String(n).padStart(3, '0')}`)
  const randomKey = () => keyAt(Math.floor(rnd() * KEYS))

  /** One write of 1..40 random puts and deletes; resolves once durable. */
  const write = (): Promise<void> => {
    const txn = store.write()
    const next = new Map(states[states.length - 1]!)
    const ops = 1 + Math.floor(rnd() * 40)
    for (let i = 0; i < ops; i++) {
      const k = randomKey()
      if (rnd() < 0.3) {
        const end = rnd() < 0.5 ? undefined : randomKey()
        txn.deleteRange(Buffer.from(k, 'latin1'), end === undefined ? undefined : Buffer.from(end, 'latin1'))
        for (const m of [...next.keys()]) if (end === undefined ? m === k : m >= k && m < end) next.delete(m)
      } else {
        const v = `v${states.length}.${i}`
        txn.put(Buffer.from(k, 'latin1'), Buffer.from(v), 0n)
        next.set(k, v)
      }
    }
    if (txn.rev !== txn.beginRev) states.push(next)
    return txn.end()
  }

  let mismatches = 0
  const probe = (view: ReadView, label: string) => {
    for (let i = 0; i < 12; i++) {
      const firstRev = Math.max(store.compactRev, 1)
      const rev = rnd() < 0.4 ? 0 : firstRev + Math.floor(rnd() * (view.rev - firstRev + 1))
      const from = randomKey()
      const shape = rnd()
      const end = shape < 0.1 ? undefined : shape < 0.3 ? '' : randomKey()
      const limit = [0, 1, 3, 10, 100][Math.floor(rnd() * 5)]!
      const countOnly = rnd() < 0.25
      const got = view.range(Buffer.from(from, 'latin1'), end === undefined ? undefined : Buffer.from(end, 'latin1'), { limit, rev, count: countOnly })
      const want = expected(states[rev === 0 ? view.rev : rev]!, from, end, countOnly ? -1 : limit)
      const found = { count: got.count, kvs: got.kvs.map((kv) => `${kv.key.toString('latin1')}=${kv.value.toString()}`) }
      if (countOnly) want.kvs = []
      if (found.count !== want.count || found.kvs.join() !== want.kvs.join()) {
        if (++mismatches <= 5) t.same(found, want, `${label}: [${from}, ${end}) at ${rev} limit ${limit}${countOnly ? ' count only' : ''}`)
      }
    }
  }

  for (let step = 0; step < 120; step++) {
    const dice = rnd()
    if (dice < 0.1 && states.length - 1 > Math.max(store.compactRev, 1) + 5) {
      const rev = store.compactRev + 1 + Math.floor(rnd() * (store.committedRev - Math.max(store.compactRev, 1) - 1))
      const { physical } = await store.compact(Math.max(rev, 2))
      if (rnd() < 0.5) await physical
    } else if (dice < 0.15) {
      // a restart, from the index saved at close
      store = (await opened.reopen()).store
    } else if (dice < 0.3) {
      // writes applied but not yet durable: the durable view must not count them, a write's own view must
      const inFlight = [write(), write(), write()]
      probe(store.read(), 'durable view with writes in flight')
      const txn = store.write()
      probe(txn, 'a write that sees the applied writes')
      await txn.end()
      await Promise.all(inFlight)
    } else {
      await write()
    }
    probe(store.read(), `step ${step}`)
  }
  t.equal(mismatches, 0, 'every count and page equals the full scan')
  t.ok(store.committedRev > 100, 'enough revisions that old counts walk the range')
})

/** Reads what the durable view holds at each revision, for comparing across a restart. */
function everyRevision(store: MvccStore): string[] {
  const out: string[] = []
  for (let rev = Math.max(store.compactRev, 1); rev <= store.committedRev; rev++) {
    const r = store.read().range(Buffer.from('\0'), Buffer.alloc(0), { limit: 5, rev, count: false })
    out.push(`${rev}: ${r.count} ${r.kvs.map((kv) => kv.key.toString('latin1')).join(',')}`)
  }
  return out
}

t.test('counts are the same after a restart, from the saved index and rebuilt from the rows', async (t) => {
  const rnd = seededRandom(seed + 1)
  const state = await openTestStore(t)
  for (let i = 0; i < 60; i++) {
    const txn = state.store.write()
    const k = Buffer.from(`k${Math.floor(rnd() * 50)}`)
    if (rnd() < 0.3) txn.deleteRange(k, undefined)
    else txn.put(k, Buffer.from('v'), 0n)
    await txn.end()
  }
  await (await state.store.compact(20)).physical
  const before = everyRevision(state.store)
  await state.reopen()
  t.ok(state.store.startup.fromRestartState, 'from the saved index')
  t.same(everyRevision(state.store), before)
  await state.store.close()
  rmSync(join(state.dir, 'member', RESTART_STATE_FILE))
  await state.reopen()
  t.notOk(state.store.startup.fromRestartState, 'rebuilt')
  t.same(everyRevision(state.store), before)
})
