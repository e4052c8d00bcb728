/**
 * The process-wide Prometheus registry: Node's process metrics and whatever any module registers on
 * it (e.g. certificate expiry). Per-server metrics live in each app's own registry; GET /metrics
 * serves both.
 */
import { collectDefaultMetrics, Registry } from 'prom-client'

export const sharedRegistry = new Registry()
collectDefaultMetrics({ register: sharedRegistry })

/** Prometheus text format (0.0.4) of the registries, one after another. */
export async function exposition(...registries: Registry[]): Promise<string> {
  const texts = await Promise.all([sharedRegistry, ...registries].map((r) => r.metrics()))
  return texts.filter((t) => t !== '').map((t) => (t.endsWith('\n') ? t : t + '\n')).join('')
}

export const metricsContentType = sharedRegistry.contentType
