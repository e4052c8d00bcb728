/**
 * Whether a remote backend's replica answers requests without a token (etcdgw_replica_answering 1: loaded,
 * and etcd known to have auth disabled) within `timeoutMs`. A test relying on answers from the replica
 * waits for this first: the replica may load in the background, after the backend has opened.
 */
import type { Backend } from '../../src/backend/backend.js'
import { eventually } from './eventually.js'

export async function replicaAnswers(backend: Backend, timeoutMs = 20_000): Promise<boolean> {
  const gauge = backend.metrics?.getSingleMetric('etcdgw_replica_answering')
  if (!gauge) return false
  return eventually(async () => (await gauge.get()).values[0]?.value === 1, timeoutMs)
}
