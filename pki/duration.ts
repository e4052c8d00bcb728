/**
 * Durations as Go's time.ParseDuration reads them (`10m`, `1h30m`, `1.5h`, `500ms`, `100us`) plus `d` for days
 * (as in `--warn 30d`), and as kubeadm prints them (apimachinery's ShortHumanDuration). The one duration
 * parser of etcdgw: flags of `serve` and of `certs` alike. Dates as kubeadm prints them too. No Node API
 * here: the web console's certificate table uses these as well.
 */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/y

/** Whole milliseconds (rounded); throws on anything that is not a non-negative duration. */
export function parseDuration(text: string): number {
  let ms = 0
  let at = 0
  while (at < text.length) {
    PART.lastIndex = at
    const m = PART.exec(text)
    if (!m) break
    ms += Number(m[1]) * UNIT_MS[m[2]!]!
    at = PART.lastIndex
  }
  // Go accepts a bare "0" as the one duration without a unit
  if (text === '0') return 0
  if (at === 0 || at !== text.length || !Number.isFinite(ms)) throw new Error(`invalid duration "${text}" (use e.g. 8760h, 30d, 1h30m, 500ms)`)
  return Math.round(ms)
}

/** apimachinery `ShortHumanDuration`: whole units, truncated; up to 2 s in the past still counts as "now". */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.trunc(ms / 60_000)
  if (minutes < 60) return `${minutes}m`
  const hours = Math.trunc(ms / 3_600_000)
  if (hours < 24) return `${hours}h`
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)}y`
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number) => String(n).padStart(2, '0')

/** kubeadm's EXPIRES column: Go layout `Jan 02, 2006 15:04 MST` in UTC. */
export function formatExpires(date: Date): string {
  return `${MONTHS[date.getUTCMonth()]} ${two(date.getUTCDate())}, ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())} UTC`
}
