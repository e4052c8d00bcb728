/** GET /metrics: etcd's metric families where they apply, plus the gateway's own. */
import type { FastifyPluginAsync } from 'fastify'
import { Gauge, type Registry } from 'prom-client'
import type { Backend } from '../../backend/backend.js'
import { exposition, metricsContentType } from '../../metrics.js'

export interface MetricsRoutesOptions {
  backend: Backend
  /** The app's registry (its request metrics); backend gauges are added here. */
  registry: Registry
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
