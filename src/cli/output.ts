/** etcdctl's output writers the commands share: its JSON, its row layouts, go-humanize byte sizes and Go durations. */

export type Format = 'simple' | 'table' | 'json'

/** etcdctl's int64 fields, which its encoding/json output prints as numbers (the gateway quotes them). */
const int64Fields = new Set([
  'cluster_id', 'member_id', 'revision', 'raft_term',
  'create_revision', 'mod_revision', 'version', 'lease', 'count', 'deleted',
  'ID', 'dbSize', 'dbSizeInUse', 'leader', 'raftIndex', 'raftTerm', 'raftAppliedIndex',
])

/**
 * Gateway JSON (parsed: its 64-bit integers are strings, so nothing was lost) as etcdctl -w json prints it.
 * Only integer strings lose their quotes: `version` is also the server's version text in a status.
 */
export function etcdctlJson(v: unknown, key?: string): string {
  if (typeof v === 'string' && key !== undefined && int64Fields.has(key) && /^-?\d+$/.test(v)) return v
  if (Array.isArray(v)) return '[' + v.map((e) => etcdctlJson(e)).join(',') + ']'
  if (v !== null && typeof v === 'object') {
    return '{' + Object.entries(v).map(([k, e]) => `${JSON.stringify(k)}:${etcdctlJson(e, k)}`).join(',') + '}'
  }
  return JSON.stringify(v)
}

/** etcdctl's two row layouts: a table, or (simple) each row's cells joined by ", ". */
export function layoutRows(format: 'simple' | 'table', headers: string[], cells: string[][]): string {
  return format === 'table' ? table(headers, cells) : cells.map((c) => c.join(', ') + '\n').join('')
}

/** olekukonko/tablewriter as etcdctl uses it: centered upper-case headers, right-aligned cells. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+'
  const center = (s: string, w: number) => {
    const left = Math.floor((w - s.length) / 2)
    return ' '.repeat(left) + s + ' '.repeat(w - s.length - left)
  }
  const out = [line, '| ' + headers.map((h, i) => center(h, widths[i]!)).join(' | ') + ' |', line]
  for (const r of rows) out.push('| ' + r.map((c, i) => c.padStart(widths[i]!)).join(' | ') + ' |')
  out.push(line)
  return out.join('\n') + '\n'
}

/** go-humanize's Bytes (SI units): "20 kB", "1.5 MB". */
export function humanBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']
  if (n < 10) return `${n} B`
  const e = Math.floor(Math.log(n) / Math.log(1000))
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10
  return `${val < 10 ? val.toFixed(1) : roundHalfEven(val)} ${units[e]}`
}

/** Go's %.0f rounds halves to even. */
function roundHalfEven(v: number): string {
  const f = Math.floor(v)
  const diff = v - f
  return String(diff > 0.5 || (diff === 0.5 && f % 2 === 1) ? f + 1 : f)
}

/** Go's time.Duration String for durations under a minute: "908.325µs", "1.055845ms", "2.5s". */
export function goDuration(ns: bigint): string {
  const units: Array<[bigint, string]> = [
    [1_000_000_000n, 's'],
    [1_000_000n, 'ms'],
    [1_000n, 'µs'],
  ]
  for (const [size, unit] of units) {
    if (ns >= size) {
      const whole = ns / size
      const frac = (ns % size).toString().padStart(size.toString().length - 1, '0').replace(/0+$/, '')
      return `${whole}${frac ? '.' + frac : ''}${unit}`
    }
  }
  return `${ns}ns`
}

/** etcdctl prints member IDs in hex. */
export const hexId = (id: bigint) => BigInt.asUintN(64, id).toString(16)
