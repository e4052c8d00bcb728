import { kvConformance } from './kv-runner.js'
import { DEFAULT_TARGETS, parseTargets } from './targets.js'

/**
 * The KV conformance suite against ours on the embedded store, in front of a fresh 1-node etcd, and the
 * same with a replica of some prefixes, each case run once on real etcd for all three.
 * CONFORMANCE_TARGET=etcd,remote (a comma-separated list) picks other targets.
 */
const targets = process.env.CONFORMANCE_TARGET
kvConformance(targets === undefined ? DEFAULT_TARGETS : parseTargets(targets))
