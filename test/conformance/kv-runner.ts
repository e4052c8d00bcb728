import t from 'tap'
import type { ConformanceCase, ServerOptions, Step } from './case.js'
import { compactionCases } from './cases/kv-compaction.js'
import { httpCases } from './cases/kv-http.js'
import { deleteCases, putCases } from './cases/kv-put-delete.js'
import { rangeCases } from './cases/kv-range.js'
import { txnCases } from './cases/kv-txn.js'
import { wireCases } from './cases/kv-wire.js'
import { etcdMissing } from '../helpers/etcd.js'
import { send, type HttpResponse } from '../helpers/http.js'
import type { RunningServer } from '../helpers/managed-server.js'
import { ServerPool } from './server-pool.js'
import { startEtcdFor, startTargetFor, type Target } from './targets.js'
import { transcript } from './transcript.js'

const filter = process.env.CONFORMANCE_FILTER ?? ''
/**
 * Cases in flight at once, each on a reference etcd and a server per target (the remote targets start
 * an etcd of their own). On 2 cores with the three targets, 2 finished soonest, for 5-10% more CPU
 * than 1; 3 and 4 cost more CPU and were no faster.
 */
const CONCURRENT_CASES = 2

const allCases: ConformanceCase[] = [
  ...rangeCases,
  ...putCases,
  ...deleteCases,
  ...txnCases,
  ...compactionCases,
  ...wireCases,
  ...httpCases,
]

interface CaseResult {
  testCase: ConformanceCase
  /** Real etcd's responses, the expected ones. */
  reference: HttpResponse[]
  /** Each target's responses, in the order of the targets. */
  targets: HttpResponse[][]
}

/** A transport failure (reset, timeout) is an outcome to compare too, shown as status 0. */
async function runSteps(server: RunningServer, steps: Step[]): Promise<HttpResponse[]> {
  const responses: HttpResponse[] = []
  for (const s of steps) {
    responses.push(
      await send(server.url, s.path, s.body ?? '', { method: s.method, headers: s.headers }).catch((err: Error) => ({
        status: 0,
        headers: {},
        trailers: {},
        body: `transport error: ${(err as NodeJS.ErrnoException).code ?? err.message}`,
      })),
    )
  }
  return responses
}

/** One case on a fresh reference etcd and a fresh server of every target, all at once. */
async function runCase(testCase: ConformanceCase, referencePool: ServerPool, targetPools: ServerPool[]): Promise<CaseResult> {
  const taken = await Promise.allSettled([referencePool, ...targetPools].map((pool) => pool.take()))
  const failed = taken.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    await Promise.all(taken.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
    throw failed.reason
  }
  const servers = taken.map((r) => (r as PromiseFulfilledResult<RunningServer>).value)
  try {
    const [reference, ...targets] = await Promise.all(servers.map((server) => runSteps(server, testCase.steps)))
    return { testCase, reference: reference!, targets }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
}

/** Run cases sharing server options, CONCURRENT_CASES at a time, results in table order. */
async function runGroup(targets: Target[], options: ServerOptions, cases: ConformanceCase[]): Promise<CaseResult[]> {
  const spare = Math.min(CONCURRENT_CASES, cases.length)
  const referencePool = new ServerPool(() => startEtcdFor(options), spare)
  const targetPools = targets.map((target) => new ServerPool(() => startTargetFor(target, options), spare))
  const results: CaseResult[] = new Array(cases.length)
  let next = 0
  const worker = async () => {
    while (next < cases.length) {
      const index = next++
      results[index] = await runCase(cases[index]!, referencePool, targetPools)
    }
  }
  const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT_CASES }, worker))
  await Promise.all([referencePool, ...targetPools].map((pool) => pool.drain()))
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason
  return results
}

function describe(s: Step): string {
  const body = s.body ?? ''
  const shown = body.length > 300 ? `${body.slice(0, 300)}... (${body.length} bytes)` : body
  return `${s.label ? `${s.label}: ` : ''}${s.method ?? 'POST'} ${s.path} ${shown}`
}

/**
 * Every case runs once on a fresh real etcd and on a fresh server of each target (see targets.ts), in
 * parallel, and each target's responses must match etcd's after normalizing cluster_id, member_id and
 * raft_term: one subtest per target and case. CONFORMANCE_FILTER=text runs only the cases whose name
 * contains text.
 */
export function kvConformance(targets: Target[]): void {
  t.test(`KV conformance: real etcd vs ${targets.join(', ')}`, { skip: etcdMissing() }, async (t) => {
    const cases = allCases.filter((c) => c.name.includes(filter))
    const names = new Set(cases.map((c) => c.name))
    t.equal(names.size, cases.length, 'case names are unique')

    const groups = new Map<string, { options: ServerOptions; cases: ConformanceCase[] }>()
    for (const c of cases) {
      const key = JSON.stringify(c.server ?? {})
      const group = groups.get(key) ?? { options: c.server ?? {}, cases: [] }
      group.cases.push(c)
      groups.set(key, group)
    }

    const started = performance.now()
    const results: CaseResult[] = []
    for (const group of groups.values()) results.push(...(await runGroup(targets, group.options, group.cases)))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    t.comment(`${results.length} cases on ${targets.length} targets, ${seconds} s`)

    targets.forEach((target, k) => {
      t.test(`real etcd vs ${target}`, async (t) => {
        const mismatched: string[] = []
        for (const { testCase, reference, targets: responses } of results) {
          const ours = responses[k]!
          if (testCase.steps.some((_, i) => transcript(reference[i]!) !== transcript(ours[i]!))) mismatched.push(testCase.name)
          t.test(testCase.name, async (t) => {
            testCase.steps.forEach((s, i) => {
              t.equal(transcript(ours[i]!), transcript(reference[i]!), `${target}, step ${i + 1}: ${describe(s)}`, {
                diff_legend: `expected = real etcd, actual = ${target}`,
              })
            })
          })
        }
        t.comment(`${results.length} cases, ${mismatched.length} mismatched (target ${target})`)
        for (const name of mismatched) t.comment(`mismatch: ${name}`)
      })
    })
  })
}
