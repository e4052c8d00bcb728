/**
 * GET /metrics: etcd's metric families where they mean something here, under etcd's names, types and
 * labels (the README's monitoring section lists which and why), plus the gateway's own as etcdgw_*.
 * These are read from the backend's status at each scrape; the backend adds its own (backend.metrics).
 */
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
  const labelled = (name: string, help: string, label: string) => new Gauge({ name, help, labelNames: [label], registers })
  const serverVersion = labelled('etcd_server_version', "Which version is running. 1 for 'server_version' label with current version.", 'server_version')
  const clusterVersion = labelled(
    'etcd_cluster_version',
    "Which version is running. 1 for 'cluster_version' label with current cluster version",
    'cluster_version',
  )
  /**
   * Reads what the gauges show, once per scrape; an unreachable backend shows no leader. Leases are
   * listed only with a leader (etcd needs one to list them): a scrape never waits for a leaderless cluster.
   */
  const observe = async () => {
    const s = await backend.maintenance.status().catch(() => undefined)
    const led = s !== undefined && s.leader !== 0n
    hasLeader.set(led ? 1 : 0)
    isLeader.set(led && s.leader === s.header.memberId ? 1 : 0)
    serverVersion.reset()
    clusterVersion.reset()
    if (s) {
      dbSize.set(s.dbSize)
      dbInUse.set(s.dbSizeInUse)
      serverVersion.set({ server_version: s.version }, 1)
      clusterVersion.set({ cluster_version: s.version.replace(/^(\d+\.\d+)\..*$/, '$1') }, 1)
    }
    const leaseList = led ? await backend.lease.leases().catch(() => undefined) : undefined
    if (leaseList) leases.set(leaseList.leases.length)
  }
  const backendMetrics = backend.metrics ? [backend.metrics] : []
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
      return reply.header('content-type', metricsContentType).send(await exposition(registry, ...backendMetrics))
    },
  })
}
