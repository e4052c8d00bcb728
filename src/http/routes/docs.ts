/** The API description: GET /openapi.json, and Swagger UI at /docs to try the routes from a browser. */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import { openApiDocument } from '../api/openapi.js'
import { openApiText } from '../api/write-openapi.js'
import { asIs } from '../rpc.js'

export const docsRoutes: FastifyPluginAsync = async (app) => {
  const text = openApiText()
  await app.register(swagger, { mode: 'static', specification: { document: openApiDocument() as never } })
  await app.register(swaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', async (_request, reply) => reply.header('content-type', 'application/json').serializer(asIs).send(text))
}
