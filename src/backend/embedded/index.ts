import type { Backend } from '../backend.js'
import { EmbeddedKV } from './kv.js'
import { MvccStore } from './mvcc-store.js'

export interface EmbeddedOptions {
  dataDir: string
  /** This member's name (etcd's --name). */
  name: string
  /** etcd's --max-txn-ops. */
  maxTxnOps: number
}

/** A single fresh etcd member reports raft term 2 (its first election); we have no elections. */
const RAFT_TERM = 2

/** The default backend: a durable single-member store with etcd's MVCC semantics. */
export async function openEmbeddedBackend(opts: EmbeddedOptions): Promise<Backend> {
  const store = await MvccStore.open(opts.dataDir)
  // no lease can be granted on this backend yet, so every lease a put names is unknown
  const kv = new EmbeddedKV(store, { maxTxnOps: opts.maxTxnOps, leaseExists: () => false, raftTerm: RAFT_TERM })
  return {
    kv,
    close: () => store.close(),
  }
}
