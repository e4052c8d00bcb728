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
  etcd: HttpResponse[]
  ours: HttpResponse[]
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

async function runCase(testCase: ConformanceCase, etcdPool: ServerPool, targetPool: ServerPool): Promise<CaseResult> {
  const taken = await Promise.allSettled([etcdPool.take(), targetPool.take()])
  if (taken[0].status === 'rejected' || taken[1].status === 'rejected') {
    await Promise.all(taken.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)))
    throw taken.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason
  }
  const [etcd, ours] = [taken[0].value, taken[1].value]
  try {
    const [etcdResponses, ourResponses] = await Promise.all([runSteps(etcd, testCase.steps), runSteps(ours, testCase.steps)])
    return { testCase, etcd: etcdResponses, ours: ourResponses }
  } finally {
    await Promise.all([etcd.stop(), ours.stop()])
  }
}

/** Run cases sharing server options, CONCURRENT_CASES at a time, results in table order. */
async function runGroup(target: Target, options: ServerOptions, cases: ConformanceCase[]): Promise<CaseResult[]> {
  const spare = Math.min(CONCURRENT_CASES, cases.length)
  const etcdPool = new ServerPool(() => startEtcdFor(options), spare)
  const targetPool = new ServerPool(() => startTargetFor(target, options), spare)
  const results: CaseResult[] = new Array(cases.length)
  let next = 0
  const worker = async () => {
    while (next < cases.length) {
      const index = next++
      results[index] = await runCase(cases[index]!, etcdPool, targetPool)
    }
  }
  const outcomes = await Promise.allSettled(Array.from({ length: CONCURRENT_CASES }, worker))
  await Promise.all([etcdPool.drain(), targetPool.drain()])
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason
  return results
}

function describe(s: Step): string {
  const body = s.body ?? ''
  const shown = body.length > 300 ? `${body.slice(0, 300)}... (${body.length} bytes)` : body
  return `${s.label ? `${s.label}: ` : ''}${s.method ?? 'POST'} ${s.path} ${shown}`
}

/**
 * Every case runs on a fresh real etcd and a fresh target (see targets.ts), and each response must
 * match after normalizing cluster_id, member_id and raft_term. CONFORMANCE_FILTER=text runs only the
 * cases whose name contains text.
 */
export function kvConformance(target: Target): void {
  t.test(`KV conformance: real etcd vs ${target}`, { skip: etcdMissing() }, async (t) => {
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
    for (const group of groups.values()) results.push(...(await runGroup(target, group.options, group.cases)))
    const seconds = ((performance.now() - started) / 1000).toFixed(1)

    const mismatched: string[] = []
    for (const { testCase, etcd, ours } of results) {
      if (testCase.steps.some((_, i) => transcript(etcd[i]!) !== transcript(ours[i]!))) mismatched.push(testCase.name)
      t.test(testCase.name, async (t) => {
        testCase.steps.forEach((s, i) => {
          t.equal(transcript(ours[i]!), transcript(etcd[i]!), `step ${i + 1}: ${describe(s)}`, {
            diff_legend: `expected = real etcd, actual = ${target}`,
          })
        })
      })
    }
    t.comment(`${results.length} cases, ${mismatched.length} mismatched, ${seconds} s (target ${target})`)
    for (const name of mismatched) t.comment(`mismatch: ${name}`)
  })
}
