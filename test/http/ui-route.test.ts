/**
 * GET /ui/ (src/http/routes/ui.ts): the built console's files with their types, caching and CSP, and the
 * refusal of cross-origin browser requests while it is served (programs, which send no Origin, are unaffected).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'

async function appWith(t: Test, ui: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-ui-route-'))
  const backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128 })
  const app = buildApp({ backend, maxRequestBytes: 1572864, ui })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await backend.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return app
}

const PUT = JSON.stringify({ key: 'Zm9v', value: 'YmFy' })

t.test('/ui/ serves index.html and its hashed assets, with a CSP that allows no inline script', async (t) => {
  const app = await appWith(t, true)
  const index = await app.inject({ method: 'GET', url: '/ui/' })
  t.equal(index.statusCode, 200)
  t.equal(index.headers['content-type'], 'text/html; charset=utf-8')
  t.equal(index.headers['cache-control'], 'no-cache')
  const csp = String(index.headers['content-security-policy'])
  t.match(csp, /(^|; )script-src 'self'(;|$)/)
  t.notMatch(csp, /unsafe-inline|unsafe-eval/)
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(index.headers['x-content-type-options'], 'nosniff')
  t.notMatch(index.body, /<script>|<script type="module">/, 'no inline script')

  const scripts = [...index.body.matchAll(/src="(\/ui\/assets\/[^"]+\.js)"/g)].map((m) => m[1]!)
  const styles = [...index.body.matchAll(/href="(\/ui\/assets\/[^"]+\.css)"/g)].map((m) => m[1]!)
  t.equal(scripts.length, 1, 'one entry script')
  t.equal(styles.length, 1, 'one style sheet')
  const js = await app.inject({ method: 'GET', url: scripts[0]! })
  t.equal(js.statusCode, 200)
  t.equal(js.headers['content-type'], 'text/javascript; charset=utf-8')
  t.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable')
  const css = await app.inject({ method: 'GET', url: styles[0]! })
  t.equal(css.headers['content-type'], 'text/css; charset=utf-8')

  const again = await app.inject({ method: 'GET', url: '/ui/', headers: { 'if-none-match': String(index.headers.etag) } })
  t.equal(again.statusCode, 304, 'revalidated by its ETag')
  t.equal((await app.inject({ method: 'GET', url: '/ui/nothing-here.js' })).statusCode, 404)
  const bare = await app.inject({ method: 'GET', url: '/ui' })
  t.equal(bare.statusCode, 301)
  t.equal(bare.headers.location, '/ui/')
})

t.test('a POST from another origin is refused (403, etcd error shape); same origin and no Origin are served', async (t) => {
  const app = await appWith(t, true)
  const foreign = await app.inject({ method: 'POST', url: '/v3/kv/put', headers: { origin: 'https://evil.example' }, payload: PUT })
  t.equal(foreign.statusCode, 403)
  t.same(JSON.parse(foreign.body).code, 7)
  t.match(JSON.parse(foreign.body).message, /cross-origin request from https:\/\/evil\.example refused/)
  const nothing = await app.inject({ method: 'POST', url: '/v3/kv/range', payload: JSON.stringify({ key: 'Zm9v' }) })
  t.notOk(JSON.parse(nothing.body).kvs, 'the refused put wrote nothing')

  const same = await app.inject({ method: 'POST', url: '/v3/kv/put', headers: { origin: 'http://localhost:80', host: 'localhost:80' }, payload: PUT })
  t.equal(same.statusCode, 200, 'same origin')
  const program = await app.inject({ method: 'POST', url: '/v3/kv/put', payload: PUT })
  t.equal(program.statusCode, 200, 'no Origin: curl, etcdctl, any program')
  const read = await app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } })
  t.equal(read.statusCode, 200, 'GETs change nothing and stay open to every origin, as on etcd')
  const preflight = await app.inject({ method: 'OPTIONS', url: '/v3/kv/put', headers: { origin: 'https://evil.example' } })
  t.equal(preflight.statusCode, 200, 'preflights are answered as etcd does')
})

t.test('a WebSocket handshake from another origin is refused', async (t) => {
  const app = await appWith(t, true)
  // a stream, a unary RPC and a path with no RPC (which etcd upgrades to answer Not Found)
  for (const path of ['/v3/watch', '/v3/kv/put', '/v3/no/such/rpc']) {
    await t.rejects(app.injectWS(path, { headers: { origin: 'https://evil.example' } }), path)
    const ws = await app.injectWS(path)
    ws.terminate()
    t.pass(`${path}: without Origin the handshake succeeds`)
  }
})

t.test('--ui=false: no /ui/, and cross-origin requests are served as etcd serves them', async (t) => {
  const app = await appWith(t, false)
  t.equal((await app.inject({ method: 'GET', url: '/ui/' })).statusCode, 404)
  const foreign = await app.inject({ method: 'POST', url: '/v3/kv/put', headers: { origin: 'https://evil.example' }, payload: PUT })
  t.equal(foreign.statusCode, 200)
})
