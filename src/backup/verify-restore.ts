/**
 * `--verify-restore`: the backup restored into a temporary embedded store, which must open at the backup's
 * revision with the keys the file holds at that revision. Proves the file restores, not only that it reads.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openEmbeddedBackend } from '../backend/embedded/index.js'
import { Errors } from '../errors.js'
import { snapshotRange } from '../snapshot/get.js'
import { restoreSnapshot } from '../snapshot/restore.js'
import type { Verified } from './verify.js'

const EVERY_KEY = { key: Buffer.from([0]), rangeEnd: Buffer.from([0]) }

export async function verifyByRestore(path: string, verified: Verified): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'etcdgw-verify-restore-'))
  try {
    const dataDir = join(work, 'data')
    await restoreSnapshot(path, { dataDir, name: 'default', initialCluster: 'default=http://localhost:2380', initialClusterToken: 'etcd-cluster', skipHashCheck: false })
    const backend = await openEmbeddedBackend({ dataDir, name: 'default', maxTxnOps: 128 })
    let answer
    try {
      answer = await backend.kv.range({
        ...EVERY_KEY,
        limit: 0,
        revision: 0,
        sortOrder: 0,
        sortTarget: 0,
        serializable: true,
        keysOnly: true,
        countOnly: true,
        minModRevision: 0,
        maxModRevision: 0,
        minCreateRevision: 0,
        maxCreateRevision: 0,
      })
    } finally {
      await backend.close()
    }
    const expected = snapshotRange(path, { ...EVERY_KEY, revision: 0, keysOnly: true }).count
    if (answer.header.revision !== verified.revision || answer.count !== expected) {
      throw Errors.snapshotInvalid(
        `${path}: restored, it opens at revision ${answer.header.revision} with ${answer.count} keys; the file holds revision ${verified.revision} with ${expected} keys`,
      )
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
