import type { Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LeaseAttachments } from '../../src/backend/embedded/lease-attachments.js'
import { MvccStore } from '../../src/backend/embedded/mvcc-store.js'

/** An MvccStore in `dir` (a new temp dir), closed and removed at teardown; reopen() restarts it on the same files. */
export async function openTestStore(t: Test, dir = mkdtempSync(join(tmpdir(), 'etcdgw-store-'))) {
  const open = async () => {
    const attachments = new LeaseAttachments()
    return { attachments, store: await MvccStore.open(dir, attachments) }
  }
  const state = {
    dir,
    ...(await open()),
    async reopen() {
      await state.store.close()
      Object.assign(state, await open())
      return state
    },
  }
  t.teardown(async () => {
    await state.store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return state
}

export const key = (s: string) => Buffer.from(s)

/** Puts `k` = `v` in a write of its own; resolves with its revision once durable. */
export async function putKey(store: MvccStore, k: string, v: string, lease = 0n): Promise<number> {
  const txn = store.write()
  const rev = txn.put(key(k), key(v), lease)
  await txn.end()
  return rev
}

/** The keys and values a read of the durable store returns for [from, end) ('' = to the end). */
export function readAll(store: MvccStore, rev = 0): string[] {
  return store
    .read()
    .range(key('\0'), Buffer.alloc(0), { limit: 0, rev, count: false })
    .kvs.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`)
}
