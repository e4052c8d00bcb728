/**
 * What the gateway sees of the etcd cluster behind it, as etcdgw_upstream_* families: the members'
 * raft state is theirs to report (monitor them with etcd's own metrics); these are the gateway's view.
 */
import { Counter, Registry } from 'prom-client'
import type { EndpointPool } from './endpoint-pool.js'

export function upstreamMetrics(pool: EndpointPool): Registry {
  const registry = new Registry()
  new Counter({
    name: 'etcdgw_upstream_leader_changes_seen_total',
    help: "Leader changes the gateway's probes of the etcd members saw (the first leader seen counts), as etcd_server_leader_changes_seen_total counts a member's.",
    registers: [registry],
    collect() {
      this.reset()
      this.inc(pool.leaderChangesSeen)
    },
  })
  return registry
}
