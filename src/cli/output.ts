/** etcdctl's output helpers: its table layout, go-humanize byte sizes and Go durations. */

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
