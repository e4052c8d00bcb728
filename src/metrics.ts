/**
 * The one process-wide Prometheus registry every module adds its metrics to (Node's process metrics,
 * certificate expiry, ...). Per-server metrics live in each app's own registry; GET /metrics
 * (src/http/routes/metrics.ts) serves both.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

export const registry = new Registry()
collectDefaultMetrics({ register: registry })

/** Prometheus text format (0.0.4) of the shared registry and then `others`. */
export async function exposition(...others: Registry[]): Promise<string> {
  const texts = await Promise.all([registry, ...others].map((r) => r.metrics()))
  return texts.filter((t) => t !== '').map((t) => (t.endsWith('\n') ? t : t + '\n')).join('')
}

export const metricsContentType = registry.contentType
