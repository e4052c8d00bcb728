/**
 * GET /ui/: the web console, static files built from ui/ into dist/ui and held in memory. While it is on,
 * requests a browser sends on behalf of another origin are refused: see refuseCrossOrigin.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Errors } from '../../errors.js'
import type { Cors } from '../cors.js'

/** dist/ui, beside dist/src where this file runs from. */
const builtDir = fileURLToPath(new URL('../../../ui/', import.meta.url))

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
}

/** Scripts and styles only from files of this origin, no inline script, no framing, no plugins. */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const securityHeaders = {
  'content-security-policy': contentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

interface StaticFile {
  body: Buffer
  type: string
  etag: string
  /** Vite names what it emits under assets/ by content hash: such a URL never changes meaning. */
  immutable: boolean
}

export const uiRoutes = fp<{ cors: Cors }>(async (app, { cors }) => {
  const files = loadBuilt(builtDir)
  app.addHook('onRequest', (request, _reply, done) => refuseCrossOrigin(cors, request, done))
  app.get('/ui', (_request, reply) => reply.code(301).header('location', '/ui/').send())
  app.get('/ui/*', (request, reply) => {
    const path = (request.params as { '*': string })['*']
    const file = files.get(path === '' ? 'index.html' : path)
    reply.headers(securityHeaders)
    if (!file) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('404 page not found\n')
    reply
      .header('content-type', file.type)
      .header('etag', file.etag)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send()
    return reply.send(file.body)
  })
})

function loadBuilt(dir: string): Map<string, StaticFile> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the web console is not built (no ${join(dir, 'index.html')}): run npm run build, or serve with --ui=false`)
  }
  const files = new Map<string, StaticFile>()
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    const type = contentTypes[extname(entry.name)]
    if (!type) continue
    const path = relative(dir, full).split(sep).join('/')
    const body = readFileSync(full)
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
    files.set(path, { body, type, etag, immutable: path.startsWith('assets/') })
  }
  return files
}

/**
 * etcd's gateway answers every origin (`Access-Control-Allow-Origin: *`) and reads any body as JSON
 * whatever its Content-Type, so any web page could make its visitor's browser POST a put as a "simple"
 * text/plain request, with no preflight. Browsers mark such requests with an Origin header (on every
 * cross-origin POST and every WebSocket handshake), which curl, etcdctl and other programs do not send:
 * refusing a POST or an upgrade whose Origin is not this server's own, nor one --cors names, keeps the
 * wire as etcd's for programs and stops forged requests from browsers.
 */
function refuseCrossOrigin(cors: Cors, request: FastifyRequest, done: (err?: Error) => void): void {
  const origin = request.headers.origin
  if (origin === undefined) return done()
  const changesState = request.method !== 'GET' && request.method !== 'HEAD'
  if (!changesState && request.headers.upgrade === undefined) return done()
  if (origin === `${request.protocol}://${request.host}` || cors.names(origin)) return done()
  done(Errors.crossOriginRefused(origin))
}
