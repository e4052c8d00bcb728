/**
 * Whether the replica answers, as etcdgw_replica_answering: whether reads and watches without a token are
 * served from it or sent to etcd, which a replica loading late (etcd unreachable at start, auth enabled)
 * or one that stays off (over --replica-max-bytes at a resync) would otherwise not show.
 */
import { Gauge, type Registry } from 'prom-client'
import type { Replica } from './replica.js'

export function replicaMetrics(replica: Replica, registry: Registry): void {
  new Gauge({
    name: 'etcdgw_replica_answering',
    help: 'Whether the replica answers requests without a token (1) or they go to etcd (0: loading, starting over, too large, or etcd has auth enabled or cannot say).',
    registers: [registry],
    collect() {
      this.set(replica.answersLocally() ? 1 : 0)
    },
  })
}
