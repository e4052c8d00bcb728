/** Prometheus text exposition (0.0.4) read into families, as a scraper sees them. */

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  type: string
  samples: Sample[]
}

/** Sample names that belong to a family of another name (histogram and summary parts). */
const suffixes = ['_bucket', '_sum', '_count']

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type) {
      if (families.has(type[1]!)) throw new Error(`family ${type[1]} declared twice`)
      families.set(type[1]!, { type: type[2]!, samples: [] })
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line)
    if (!m) throw new Error(`not a sample: ${line}`)
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    const name = m[1]!
    const family = families.get(name) ?? families.get(suffixes.reduce((n, s) => (n.endsWith(s) ? n.slice(0, -s.length) : n), name))
    if (!family) throw new Error(`sample without a family: ${line}`)
    family.samples.push({ name, labels, value: Number(m[3]) })
  }
  return families
}

/** The label names a family's samples carry (a histogram's `le` left out). */
export function labelNames(family: Family): string[] {
  const names = new Set<string>()
  for (const s of family.samples) for (const l of Object.keys(s.labels)) if (l !== 'le' && l !== 'quantile') names.add(l)
  return [...names].sort()
}

export async function scrape(url: string): Promise<Map<string, Family>> {
  const res = await fetch(url + '/metrics')
  if (res.status !== 200) throw new Error(`GET ${url}/metrics: ${res.status}`)
  return parseExposition(await res.text())
}
