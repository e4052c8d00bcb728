import type { LoadResult } from './load.js'
import type { OpName } from './ops.js'
import { median } from './stats.js'
import type { TargetName } from './targets.js'

/** One measured cell of the KV matrix. */
export interface Cell {
  run: number
  op: OpName
  conns: number
  target: TargetName
  result: LoadResult
  /** CPU the server process used during the cell, in cores. */
  serverCores: number
}

/** A (op, conns, target) row over all runs: medians, and ratios taken within each run before the median. */
export interface Row {
  op: OpName
  conns: number
  target: TargetName
  rpsMedian: number
  rpsRuns: number[]
  p50Ms: number
  p99Ms: number
  /** rps ÷ etcd's rps for the same op and conns in the same run, median over runs. */
  vsEtcd: number
  /** rps ÷ the ceiling's rps at the same conns in the same run (the ceiling serves one fixed range answer). */
  vsCeiling: number
  serverCores: number
  clientCores: number
  errors: number
}

/** The ceiling is measured with the range body only: its answer does not depend on the op. */
export const CEILING_OP: OpName = 'range'

export function summarize(cells: readonly Cell[]): Row[] {
  const rows: Row[] = []
  const keys = new Map<string, Cell[]>()
  for (const c of cells) {
    const k = `${c.op}|${c.conns}|${c.target}`
    keys.set(k, [...(keys.get(k) ?? []), c])
  }
  const find = (run: number, op: OpName, conns: number, target: TargetName): Cell | undefined =>
    cells.find((c) => c.run === run && c.op === op && c.conns === conns && c.target === target)
  for (const group of keys.values()) {
    const { op, conns, target } = group[0]
    const ratio = (base: (c: Cell) => Cell | undefined): number =>
      median(group.map((c) => c.result.rps / (base(c)?.result.rps ?? NaN)))
    rows.push({
      op,
      conns,
      target,
      rpsMedian: median(group.map((c) => c.result.rps)),
      rpsRuns: group.map((c) => c.result.rps),
      p50Ms: median(group.map((c) => c.result.p50Ms)),
      p99Ms: median(group.map((c) => c.result.p99Ms)),
      vsEtcd: ratio((c) => find(c.run, op, conns, 'etcd')),
      vsCeiling: ratio((c) => find(c.run, CEILING_OP, conns, 'ceiling')),
      serverCores: median(group.map((c) => c.serverCores)),
      clientCores: median(group.map((c) => c.result.clientCores)),
      errors: group.reduce((n, c) => n + c.result.errors, 0),
    })
  }
  return rows
}

export interface TargetCheck {
  goal: string
  /** The measured value, or NaN when the cell was not part of this run. */
  value: number
  met: boolean | undefined
}

/** The targets for etcdgw (embedded): range ≥ 3× etcd and ≥ 0.5× ceiling at 10 and 50 conns; put ≥ 2× etcd at 50. */
export function checkTargets(rows: readonly Row[]): TargetCheck[] {
  const row = (op: OpName, conns: number): Row | undefined =>
    rows.find((r) => r.op === op && r.conns === conns && r.target === 'etcdgw')
  const check = (goal: string, r: Row | undefined, value: (r: Row) => number, min: number): TargetCheck => {
    const v = r ? value(r) : NaN
    return { goal, value: v, met: Number.isFinite(v) && r?.errors === 0 ? v >= min : undefined }
  }
  return [
    ...[10, 50].flatMap((c) => [
      check(`range @${c} conns ≥ 3× etcd`, row('range', c), (r) => r.vsEtcd, 3),
      check(`range @${c} conns ≥ 0.5× ceiling`, row('range', c), (r) => r.vsCeiling, 0.5),
    ]),
    check('durable put @50 conns ≥ 2× etcd', row('put', 50), (r) => r.vsEtcd, 2),
  ]
}
