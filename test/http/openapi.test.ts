import { readFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { dirStore } from '../../src/backup/backup-store.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { openApiText } from '../../src/http/api/write-openapi.js'

const committedFile = fileURLToPath(new URL('../../../openapi/openapi.json', import.meta.url))

async function appWithRoutes(t: Test, apiDocs?: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-openapi-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128 })
  // with backups, so that their routes are served too
  const app = buildApp({ backend, maxRequestBytes: 1572864, apiDocs, backups: [dirStore(join(dir, 'backups'))] })
  const routes: Array<{ method: string; url: string; catchAll: boolean }> = []
  app.addHook('onRoute', (r) => {
    // The health routes answer every other method with a 405 from one multi-method route, and /v3/*
    // upgrades the WebSockets of paths with no RPC to answer them Not Found (as etcd does).
    const catchAll = (Array.isArray(r.method) && r.method.length > 1) || r.url.endsWith('*')
    for (const method of [r.method].flat()) routes.push({ method: method.toLowerCase(), url: r.url, catchAll })
  })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { app, routes }
}

t.test('the committed openapi/openapi.json is the generated one (npm run openapi)', async (t) => {
  t.equal(readFileSync(committedFile, 'utf8'), openApiText())
})

t.test('every route the server registers is in the document, and every path of the document is served', async (t) => {
  const { app, routes } = await appWithRoutes(t)
  const doc = JSON.parse(openApiText()) as { paths: Record<string, Record<string, unknown>> }
  const own = (url: string) => url === '/openapi.json' || url.startsWith('/docs')
  // Fastify adds HEAD for each GET.
  const served = routes.filter((r) => !own(r.url) && !r.catchAll && (r.method === 'post' || r.method === 'get'))
  const documented = Object.entries(doc.paths).flatMap(([url, item]) => Object.keys(item).map((method) => ({ method, url })))
  const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`
  t.same([...new Set(served.map(key))].sort(), [...new Set(documented.map(key))].sort())

  const served200 = await app.inject({ method: 'GET', url: '/openapi.json' })
  t.equal(served200.statusCode, 200)
  t.equal(served200.body, openApiText(), '/openapi.json serves the document')
  const ui = await app.inject({ method: 'GET', url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.body, /swagger/i, '/docs is Swagger UI')
})

t.test('--api-docs=false: neither /openapi.json nor /docs', async (t) => {
  const { app, routes } = await appWithRoutes(t, false)
  t.notOk(routes.some((r) => r.url === '/openapi.json' || r.url.startsWith('/docs')))
  t.equal((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 404)
})
