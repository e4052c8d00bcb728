/** This member's cluster and member IDs (random, made once, kept) and its raft term (one more at each start). */
import { randomBytes } from 'node:crypto'
import type { StoreFile } from './store-file.js'

export interface MemberIdentity {
  readonly clusterId: bigint
  readonly memberId: bigint
  /** etcd's term goes up by one at every start of a single member (each start is an election). */
  readonly raftTerm: number
}

/** Loads the IDs (making them on a fresh store) and records this start's election. */
export async function startMember(file: StoreFile): Promise<MemberIdentity> {
  const clusterId = await loadOrCreateId(file, 'clusterId')
  const memberId = await loadOrCreateId(file, 'memberId')
  // a fresh member's first election makes term 2
  const raftTerm = ((file.meta.get('raftTerm') as number | undefined) ?? 1) + 1
  await file.meta.put('raftTerm', raftTerm)
  return { clusterId, memberId, raftTerm }
}

async function loadOrCreateId(file: StoreFile, name: string): Promise<bigint> {
  const saved = file.meta.get(name) as string | undefined
  if (saved !== undefined) return BigInt(saved)
  // etcd's IDs are random-looking uint64s; keep them nonzero so they are never omitted on the wire
  let id = randomBytes(8).readBigUInt64BE()
  if (id === 0n) id = 1n
  await file.meta.put(name, id.toString())
  return id
}
