import { kvConformance } from './kv-runner.js'
import { parseTarget } from './targets.js'

/**
 * The KV conformance suite against ours on the embedded store (kv-remote.test.ts: in front of etcd).
 * CONFORMANCE_TARGET=etcd|remote points this file at another target.
 */
kvConformance(parseTarget(process.env.CONFORMANCE_TARGET ?? 'etcdgw'))
