/** GET /health, /livez, /readyz and /version, with etcd's bodies and content types. */
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import { AlarmAction, AlarmType, type Backend, SortOrder, SortTarget } from '../../backend/backend.js'
import { ETCD_SERVER_VERSION, ETCDGW_VERSION } from '../../version.js'
import { asIs } from '../rpc.js'

export interface HealthRoutesOptions {
  backend: Backend
  /** The app's registry: etcd's counters of /health checks go there. */
  registry: Registry
}

/** etcd waits this long for the health check's read. */
const CHECK_TIMEOUT_MS = 1000

const healthKey = Buffer.from('health')

/** What is wrong with the cluster as this server sees it, or undefined when it serves reads. */
export async function unhealthyReason(backend: Backend): Promise<string | undefined> {
  try {
    return await withTimeout(check(backend), CHECK_TIMEOUT_MS)
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/** etcd's checkHealth: no alarm, a leader, and a linearizable read that answers. */
async function check(backend: Backend): Promise<string | undefined> {
  const { alarms } = await backend.maintenance.alarm({ action: AlarmAction.GET, memberId: 0n, alarm: AlarmType.NONE })
  if (alarms.length > 0) return `alarm ${AlarmType[alarms[0]!.alarm] ?? alarms[0]!.alarm} is active`
  const status = await backend.maintenance.status()
  if (status.leader === 0n) return 'no leader'
  await backend.kv.range({
    key: healthKey,
    rangeEnd: Buffer.alloc(0),
    limit: 0,
    revision: 0,
    sortOrder: SortOrder.NONE,
    sortTarget: SortTarget.KEY,
    serializable: false,
    keysOnly: false,
    countOnly: true,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
  })
  return undefined
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

/** Go's http.Error for the other methods on these paths. */
function methodNotAllowed(_request: unknown, reply: FastifyReply): FastifyReply {
  return reply
    .code(405)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send('Method Not Allowed\n')
}

const otherMethods = ['HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const

export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { backend, registry }) => {
  const registers = [registry]
  const healthy = new Counter({ name: 'etcd_server_health_success', help: 'The total number of successful health checks', registers })
  const unhealthy = new Counter({ name: 'etcd_server_health_failures', help: 'The total number of failed health checks', registers })
  const get = (url: string, handler: (reply: FastifyReply) => Promise<FastifyReply>) => {
    app.route({ method: 'GET', url, exposeHeadRoute: false, handler: (_request, reply) => handler(reply) })
    app.route({ method: [...otherMethods], url, handler: methodNotAllowed })
  }

  // etcd: 200 without a newline, 503 with one (the failure goes through http.Error)
  get('/health', async (reply) => {
    const reason = await unhealthyReason(backend)
    reply.header('content-type', 'text/plain; charset=utf-8')
    ;(reason === undefined ? healthy : unhealthy).inc()
    if (reason === undefined) return reply.serializer(asIs).send('{"health":"true"}')
    reply.log.warn({ reason }, '/health: unhealthy')
    return reply.code(503).header('x-content-type-options', 'nosniff').serializer(asIs).send('{"health":"false"}\n')
  })

  // etcd 3.5.11+ probes, answered as Kubernetes-style checks
  get('/livez', async (reply) => reply.header('content-type', 'text/plain; charset=utf-8').send('ok'))
  get('/readyz', async (reply) => {
    const reason = await unhealthyReason(backend)
    reply.header('content-type', 'text/plain; charset=utf-8')
    if (reason === undefined) return reply.send('ok')
    return reply.code(503).send(`[-]serving failed: ${reason}\nreadyz check failed\n`)
  })

  get('/version', async (reply) => {
    let server = ETCD_SERVER_VERSION
    let cluster = 'not_decided'
    try {
      server = (await backend.maintenance.status()).version
      cluster = server.replace(/^(\d+\.\d+)\..*$/, '$1.0')
    } catch {
      // etcd answers "not_decided" while it does not know the cluster's version
    }
    const body = JSON.stringify({ etcdserver: server, etcdcluster: cluster, etcdgw: ETCDGW_VERSION })
    return reply.header('content-type', 'application/json').serializer(asIs).send(body)
  })
}
