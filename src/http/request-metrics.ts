/** What the server counts of every HTTP request: its duration by route. */
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { CellHistogram } from '../metric-cells.js'

/** Request duration by route; call on the root app (hooks are scoped). */
export function observeRequests(app: FastifyInstance, registry: Registry): void {
  const duration = new CellHistogram({
    name: 'etcdgw_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  // a callback hook: an async one would cost a promise per request
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const { method } = request
    const code = reply.statusCode
    duration.cell(`${route} ${method} ${code}`, () => ({ route, method, code: String(code) })).observe(reply.elapsedTime / 1000)
    done()
  })
}
