/** The one Prometheus registry every module adds its metrics to, and the `GET /metrics` route that serves it. */
import type { FastifyPluginAsync } from 'fastify'
import { Registry } from 'prom-client'

export const registry = new Registry()

export const metricsRoutes: FastifyPluginAsync = async (app) => {
  app.get('/metrics', async (_request, reply) => {
    const text = await registry.metrics()
    return reply.header('content-type', registry.contentType).send(text)
  })
}
