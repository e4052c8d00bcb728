/**
 * Durations as the CLI takes them (Go's time.ParseDuration units plus `d` for days, as in `--warn 30d`),
 * and durations and dates as kubeadm prints them (apimachinery's ShortHumanDuration). No Node API here:
 * the web console shows its certificate table with these too.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
}

export function parseDuration(text: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g) : null
  if (!parts) throw new Error(`invalid duration "${text}" (use e.g. 8760h, 30d, 1h30m)`)
  let ms = 0
  for (const part of parts) {
    const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part)!
    ms += Number(value) * UNIT_MS[unit!]!
  }
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
