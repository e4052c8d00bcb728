/**
 * The embedded store alone at scale: loads N keys (`scale/00000000` …, 256-byte values, writes of 128 puts,
 * 8 in flight), then measures the key index's heap per key after a restart, the restart itself, and the
 * latency of count_only over everything and of pages of 100 with their count, at the newest revision and
 * at past ones. Run with node --expose-gc dist/bench/store-scale.js [N].
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { MvccStore } from '../src/backend/embedded/mvcc-store.js'

const N = Number(process.argv[2] ?? 1_000_000)
const BATCH = 128
const IN_FLIGHT = 8
const SAMPLES = 200

const keyOf = (i: number) => Buffer.from(`scale/${String(i).padStart(8, '0')}`)
const value = Buffer.alloc(256, 'v')

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

function percentiles(samples: number[]): string {
  samples.sort((a, b) => a - b)
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!
  return `p50 ${at(0.5).toFixed(3)} ms, p99 ${at(0.99).toFixed(3)} ms`
}

function timed(run: (i: number) => void): string {
  const samples: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const start = performance.now()
    run(i)
    samples.push(performance.now() - start)
  }
  return percentiles(samples)
}

/** Loads the keys; resolves with the revision when half of them were in. */
async function load(store: MvccStore): Promise<number> {
  let next = 0
  let halfRev = 0
  const writer = async () => {
    while (next < N) {
      const txn = store.write()
      for (let j = 0; j < BATCH && next < N; j++) txn.put(keyOf(next++), value, 0n)
      await txn.end()
      if (halfRev === 0 && next >= N / 2) halfRev = store.committedRev
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer))
  return halfRev
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-scale-'))
  try {
    let store = await MvccStore.open(dir)
    const loadStart = performance.now()
    const halfRev = await load(store)
    console.log(`load: ${N} keys in ${((performance.now() - loadStart) / 1000).toFixed(1)} s`)
    // rewrite a few keys so that past revisions differ from the newest
    const midRev = store.committedRev
    for (let i = 0; i < 50; i++) {
      const txn = store.write()
      txn.put(keyOf(i * 997), value, 0n)
      await txn.end()
    }
    await store.close()
    const heapBefore = heapAfterGc()
    const restartStart = performance.now()
    store = await MvccStore.open(dir)
    const from = store.startup.fromRestartState ? `the restart state and ${store.startup.rowsRead} rows after it` : `${store.startup.rowsRead} rows`
    console.log(`restart (open until readable, from ${from}): ${((performance.now() - restartStart) / 1000).toFixed(2)} s`)
    // the map of keys, filled in the background after a start-up from the restart state, counts too
    store.index.mapKeys(Infinity)
    const heap = heapAfterGc() - heapBefore
    console.log(`heap held by the store after restart: ${(heap / 2 ** 20).toFixed(0)} MiB, ${(heap / N).toFixed(0)} bytes per key; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`)
    const all = { key: Buffer.from('\0'), end: Buffer.alloc(0) }
    const recentRev = store.committedRev - 10
    /** Start keys spread over the first `share` of the key space. */
    const startOf = (i: number, share = 1) => keyOf(Math.floor(((i * 7919) % 1000) * ((N * share) / 1000)))
    const page = (rev: number, share = 1) => (i: number) => {
      const r = store.read().range(startOf(i, share), all.end, { limit: 100, rev, count: false })
      if (r.kvs.length !== 100) throw new Error('short page')
    }
    console.log(`count_only over everything, newest revision: ${timed(() => store.read().range(all.key, all.end, { limit: 0, rev: 0, count: true }))}`)
    console.log(`page of 100 with its count, newest revision: ${timed(page(0))}`)
    console.log(`page of 100 with its count, 10 revisions back: ${timed(page(recentRev))}`)
    console.log(`page of 100 with its count, at the end of the load (50 revisions back): ${timed(page(midRev))}`)
    console.log(`page of 100 with its count, half way through the load: ${timed(page(halfRev, 0.4))}`)
    console.log(`point get: ${timed((i) => store.read().range(startOf(i), undefined, { limit: 0, rev: 0, count: false }))}`)
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
