/** Prometheus text exposition (0.0.4), as /metrics serves it: samples by name with their labels. */
export interface Sample {
  labels: Record<string, string>
  value: number
}

export type Metrics = Map<string, Sample[]>

const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/
const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g

export function parseMetrics(text: string): Metrics {
  const out: Metrics = new Map()
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue
    const m = line.exec(l)
    if (!m) continue
    const labels: Record<string, string> = {}
    for (const [, k, v] of (m[2] ?? '').matchAll(label)) labels[k!] = v!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    const samples = out.get(m[1]!) ?? []
    samples.push({ labels, value: Number(m[3]) })
    out.set(m[1]!, samples)
  }
  return out
}

export function sum(metrics: Metrics, name: string, keep: (labels: Record<string, string>) => boolean = () => true): number | undefined {
  const samples = metrics.get(name)
  if (!samples) return undefined
  return samples.filter((s) => keep(s.labels)).reduce((a, s) => a + s.value, 0)
}
