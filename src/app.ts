/**
 * The HTTP server: etcd 3.4's gateway surface on Fastify. Routing rules that are not a route of
 * their own (CORS, OPTIONS, /v3beta/, path cleaning, 404/405 bodies) and the one error mapping live here.
 */
import type { ServerOptions as HttpsOptions } from 'node:https'
import { posix } from 'node:path'
import websocket from '@fastify/websocket'
import { Registry } from 'prom-client'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify'
import type { Backend } from './backend/backend.js'
import { Errors, EtcdError, GrpcCode, httpStatusOf } from './errors.js'
import { encodeError } from './http/codec/envelope.js'
import { authRoutes } from './http/routes/auth.js'
import { clusterRoutes } from './http/routes/cluster.js'
import { docsRoutes } from './http/routes/docs.js'
import { healthRoutes } from './http/routes/health.js'
import { kvRoutes } from './http/routes/kv.js'
import { leaseRoutes } from './http/routes/lease.js'
import { maintenanceRoutes } from './http/routes/maintenance.js'
import { metricsRoutes } from './http/routes/metrics.js'
import { uiRoutes } from './http/routes/ui.js'
import { Cors, type CorsOrigins } from './http/cors.js'
import { backupRoutes } from './http/routes/backups.js'
import type { BackupStore } from './backup/backup-store.js'
import { watchRoutes } from './http/routes/watch.js'
import { credentialsReader } from './http/credentials.js'
import { observeRequests } from './http/request-metrics.js'
import { GrpcMetrics } from './http/grpc-metrics.js'
import { asIs, RequestLimits } from './http/rpc.js'
import { SendBudget } from './http/stream/send-budget.js'
import { WsHeartbeat } from './http/stream/ws-heartbeat.js'
import { notFoundOverWebSocket } from './http/stream/ws-route.js'
import { watchCounter } from './http/watch-metrics.js'
import { TurnTaking } from './turn-taking.js'

export interface AppOptions {
  backend: Backend
  /** etcd's --max-request-bytes. */
  maxRequestBytes: number
  /**
   * A stream client that leaves more than this many bytes unread is not read from until it catches up;
   * a watch stream's events past it cancel its watches.
   */
  watchSendBufferBytes?: number
  /** What all streams together may leave unread before the slowest are shed. */
  streamSendBudgetBytes?: number
  /** How often silent WebSockets are pinged; a peer silent for two intervals more is dropped. */
  wsPingIntervalMs?: number
  logger?: FastifyServerOptions['logger']
  /** Serve /openapi.json and the API explorer at /docs (default: yes). */
  apiDocs?: boolean
  /** Serve the web console at /ui/ (needs `npm run build`'s dist/ui; `etcdgw serve` turns it on by default). */
  ui?: boolean
  /**
   * etcd's --client-cert-auth (HTTPS with client certificates): a verified client certificate's common
   * name names the user of a request that carries no token.
   */
  clientCertAuth?: boolean
  /** etcd's --cors: the origins whose pages may read the answers (default `*`, as etcd). */
  cors?: CorsOrigins
  /** Where `serve --backup-schedule` keeps its backups: served at GET /backups and POST /backups/verify. */
  backups?: BackupStore[]
  /** serve HTTPS with these options; plain HTTP without them */
  https?: HttpsOptions
}

export const defaultWatchSendBufferBytes = 8 * 1024 * 1024
export const defaultStreamSendBudgetBytes = 256 * 1024 * 1024
const defaultWsPingIntervalMs = 30_000

export function buildApp(opts: AppOptions): FastifyInstance {
  const limits = new RequestLimits(opts.maxRequestBytes)
  // One instance type for both: the routes never see whether the server is HTTP or HTTPS.
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: bodyLimitFor(limits),
    rewriteUrl: (req) => routedUrl(req.url!),
    ...(opts.https ? { https: opts.https } : {}),
  }) as unknown as FastifyInstance

  app.decorateRequest('rpcStarted', false)

  // A callback hook, not an async one: it runs on every request, and a promise per request is measurable.
  const cors = new Cors(opts.cors ?? '*')
  app.addHook('onRequest', (request, reply, done) => {
    const corsHeaders = cors.headersFor(request.headers.origin)
    if (corsHeaders) reply.headers(corsHeaders)
    // answered here: the request goes no further (no done())
    if (request.method === 'OPTIONS') return void reply.code(200).send()
    // The gateway ignores Content-Type: every body is JSON.
    delete request.headers['content-type']
    done()
  })

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))

  app.setNotFoundHandler((request, reply) => {
    const url = request.url
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const query = q === -1 ? '' : url.slice(q)
    const clean = cleanPath(path)
    // Go's ServeMux: unclean paths redirect, and "/v3" redirects to the "/v3/" subtree.
    if (clean !== path) return redirect(reply, request.method, escapePath(clean) + query)
    if (path === '/v3') return redirect(reply, request.method, '/v3/' + query)
    if (app.hasRoute({ method: 'POST', url: path })) return plainError(reply, 405, 'Method Not Allowed')
    if (path.startsWith('/v3/')) return plainError(reply, 404, 'Not Found')
    return plainError(reply, 404, '404 page not found')
  })

  app.setErrorHandler((err: FastifyError | EtcdError, request, reply) => {
    const e = toEtcdError(err, request.headers['content-length'], limits)
    const status = httpStatusOf(e.grpcCode)
    if (status >= 500) request.log.error({ err }, 'request failed')
    reply.code(status).header('content-type', 'application/json')
    // Errors from the gRPC call end with the trailer grpc-gateway writes; body decode errors do not.
    if (request.rpcStarted || e.grpcCode === GrpcCode.ResourceExhausted) {
      reply.trailer('grpc-trailer-content-type', async () => 'application/grpc')
    }
    return reply.serializer(asIs).send(encodeError(e.message, e.grpcCode))
  })

  const registry = new Registry()
  const { backend } = opts
  const credentials = credentialsReader(opts.clientCertAuth ?? false)
  observeRequests(app, registry)
  const heartbeat = new WsHeartbeat(opts.wsPingIntervalMs ?? defaultWsPingIntervalMs)
  app.addHook('onClose', async () => heartbeat.stop())
  // etcd answers WebSocket upgrades without compression.
  app.register(websocket, { options: { perMessageDeflate: false, maxPayload: limits.maxMessageBytes } })
  const streamLimits = {
    requests: limits,
    sendBufferBytes: opts.watchSendBufferBytes ?? defaultWatchSendBufferBytes,
    budget: new SendBudget(opts.streamSendBudgetBytes ?? defaultStreamSendBudgetBytes),
    largeMessages: new TurnTaking(),
  }
  app.decorate('rpcServices', { metrics: new GrpcMetrics(registry), streams: streamLimits, heartbeat })
  app.register(metricsRoutes, { backend, registry })
  app.register(kvRoutes, { backend, limits, credentials })
  app.register(leaseRoutes, { backend, credentials, limits: streamLimits, heartbeat })
  app.register(watchRoutes, { backend, credentials, counted: watchCounter(registry), limits: streamLimits, heartbeat })
  app.register(maintenanceRoutes, { backend, limits, credentials })
  app.register(clusterRoutes, { backend, limits, credentials })
  app.register(authRoutes, { backend, limits, credentials })
  app.register(healthRoutes, { backend, registry })
  app.register(notFoundOverWebSocket)
  if (opts.backups) app.register(backupRoutes, { stores: opts.backups, backend, credentials })
  if (opts.apiDocs !== false) app.register(docsRoutes)
  if (opts.ui) app.register(uiRoutes, { cors })
  return app
}

/**
 * The URL as etcd routes it: Go matches the percent-decoded path (so `/v3%2Fkv/range` is
 * `/v3/kv/range`), and etcd 3.4 serves /v3beta/ by rewriting it to /v3/ before its mux sees the path.
 */
function routedUrl(url: string): string {
  const q = url.indexOf('?')
  let path = q === -1 ? url : url.slice(0, q)
  if (path.includes('%')) {
    try {
      const decoded = decodeURIComponent(path)
      if (!/[?#]/.test(decoded)) path = decoded
    } catch {
      // Not valid percent-encoding: routed as sent, it matches nothing.
    }
  }
  if (path.startsWith('/v3beta/')) path = '/v3/' + path.slice(8)
  return q === -1 ? path : path + url.slice(q)
}

/**
 * etcd reads bodies of any length and judges the decoded message. Ours are bounded (memory), well above
 * the JSON text of the largest acceptable message (base64 takes 4/3, escapes more).
 */
function bodyLimitFor(limits: RequestLimits): number {
  return Math.max(4 * limits.maxMessageBytes, 16 * 1024 * 1024)
}

function toEtcdError(err: FastifyError | EtcdError, contentLength: string | undefined, limits: RequestLimits): EtcdError {
  if (err instanceof EtcdError) return err
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    // Unread, its message size is unknown: the body's length stands in for it.
    return limits.messageTooLarge(Number(contentLength) || bodyLimitFor(limits) + 1)
  }
  const status = err.statusCode ?? 500
  return status < 500 ? Errors.requestRejected(err.message) : Errors.unknown(err)
}

/** Go's http.Error: text/plain, nosniff, message and a newline. */
function plainError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(message + '\n')
}

/** Go's http.Redirect with 301: an HTML note for GET and HEAD, an empty body otherwise. */
function redirect(reply: FastifyReply, method: string, location: string): FastifyReply {
  reply.code(301).header('location', location)
  if (method !== 'GET' && method !== 'HEAD') return reply.send()
  const href = location.replace(/[&<>"']/g, (c) => htmlEscapes[c]!)
  return reply.header('content-type', 'text/html; charset=utf-8').send(`<a href="${href}">Moved Permanently</a>.\n\n`)
}

const htmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' }

/** Go's url.URL.EscapedPath of a path (routing matched it percent-decoded): its UTF-8 bytes, escaped as Go does. */
function escapePath(path: string): string {
  let out = ''
  for (const byte of Buffer.from(path, 'utf8')) {
    out += pathSafe[byte] ? String.fromCharCode(byte) : '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** What Go's shouldEscape leaves as is in a path: letters, digits, -_.~ and $&+,/:;=@ (not ?). */
const pathSafe = Array.from({ length: 256 }, (_, c) => /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(String.fromCharCode(c)))

/** Go's cleanPath: path.Clean, keeping a trailing slash. */
function cleanPath(p: string): string {
  if (p === '') return '/'
  if (p[0] !== '/') p = '/' + p
  let np = posix.normalize(p)
  if (np.length > 1 && np.endsWith('/') && !p.endsWith('/')) np = np.slice(0, -1)
  return np
}
