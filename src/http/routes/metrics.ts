/** GET /metrics: etcd's metric families where they apply, plus the gateway's own. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Backend, Watch, WatchResponse, WatchStream } from '../../backend/backend.js'
import { exposition, metricsContentType } from '../../metrics.js'

export interface MetricsRoutesOptions {
  backend: Backend
  /** The app's registry (its request metrics); backend gauges are added here. */
  registry: Registry
}

/** KV routes → etcd's mvcc operation counters. */
const mvccCounters: Record<string, string> = {
  '/v3/kv/put': 'put',
  '/v3/kv/range': 'range',
  '/v3/kv/txn': 'txn',
  '/v3/kv/deleterange': 'delete',
}

export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { backend, registry }) => {
  const registers = [registry]
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers })
  const hasLeader = gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.')
  const isLeader = gauge('etcd_server_is_leader', 'Whether or not the member answering is the leader. 1 if is, 0 otherwise.')
  const dbSize = gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.')
  const dbInUse = gauge('etcd_mvcc_db_total_size_in_use_in_bytes', 'Total size of the underlying database logically in use in bytes.')
  const leases = gauge('etcdgw_leases_active', 'Leases that exist now.')
  /** Reads what the gauges show, once per scrape; an unreachable backend shows no leader. */
  const observe = async () => {
    const [status, leaseList] = await Promise.allSettled([backend.maintenance.status(), backend.lease.leases()])
    const s = status.status === 'fulfilled' ? status.value : undefined
    hasLeader.set(s && s.leader !== 0n ? 1 : 0)
    isLeader.set(s && s.leader !== 0n && s.leader === s.header.memberId ? 1 : 0)
    if (s) {
      dbSize.set(s.dbSize)
      dbInUse.set(s.dbSizeInUse)
    }
    if (leaseList.status === 'fulfilled') leases.set(leaseList.value.leases.length)
  }
  const upstreams = backend.upstreams?.bind(backend)
  if (upstreams) {
    new Gauge({
      name: 'etcdgw_upstream_member_healthy',
      help: 'Whether the etcd endpoint answered the last probe with a leader (1), without one (0.5) or not at all (0).',
      labelNames: ['endpoint'],
      registers,
      collect() {
        for (const u of upstreams()) this.set({ endpoint: u.endpoint }, u.health === 'healthy' ? 1 : u.health === 'noLeader' ? 0.5 : 0)
      },
    })
  }
  app.route({
    method: 'GET',
    url: '/metrics',
    exposeHeadRoute: false,
    handler: async (_request, reply) => {
      await observe()
      return reply.header('content-type', metricsContentType).send(await exposition(registry))
    },
  })
}

/** Request duration by route, and etcd's mvcc counters by KV route; call on the root app (hooks are scoped). */
export function observeRequests(app: FastifyInstance, registry: Registry): void {
  const registers = [registry]
  const ops = Object.fromEntries(
    [...new Set(Object.values(mvccCounters))].map((op) => [
      op,
      new Counter({ name: `etcd_mvcc_${op}_total`, help: `Total number of ${op}s seen by this member.`, registers }),
    ]),
  )
  const duration = new Histogram({
    name: 'etcdgw_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  // a callback hook: an async one would cost a promise per request
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched'
    duration.observe({ route, method: request.method, code: String(reply.statusCode) }, reply.elapsedTime / 1000)
    const op = mvccCounters[route]
    if (op && reply.statusCode === 200) ops[op]!.inc()
    done()
  })
}

/** The backend's Watch, with a gauge of the app's registry showing the watches open on it. */
export function countedWatch(watch: Watch, registry: Registry): Watch {
  const streams = new Set<WatchStream>()
  new Gauge({
    name: 'etcdgw_watches_open',
    help: 'Watches open on this server.',
    registers: [registry],
    collect() {
      let open = 0
      for (const stream of streams) open += stream.liveWatchIds.size
      this.set(open)
    },
  })
  return {
    open(onResponse: (resp: WatchResponse) => void) {
      const stream = watch.open(onResponse)
      streams.add(stream)
      return {
        send: (req) => stream.send(req),
        get liveWatchIds() {
          return stream.liveWatchIds
        },
        close() {
          streams.delete(stream)
          stream.close()
        },
      }
    },
  }
}
