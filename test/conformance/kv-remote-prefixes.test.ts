import { kvConformance } from './kv-runner.js'

/** The KV conformance suite against ours in front of a fresh 1-node etcd, its replica keeping only some prefixes. */
kvConformance('remote-prefixes')
