import t from 'tap'
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { open } from 'lmdb'
import { dataDirModeWarning } from '../../../src/backend/embedded/data-dir.js'
import { openEmbeddedBackend } from '../../../src/backend/embedded/index.js'
import { startServe } from '../../helpers/serve-process.js'
import { put, range } from '../../helpers/requests.js'
import { tempDir } from '../../helpers/temp-dir.js'

const mode = (path: string) => statSync(path).mode & 0o777

/** Every file and folder under `dir` with its mode, as "mode path". */
function modes(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    // the log's segments are numbered as they are made and reused
    const own = `${mode(path).toString(8)} ${prefix}${e.name.replace(/^wal-[0-9a-f]{16}\.log$/, 'wal-N.log')}`
    return e.isDirectory() ? [own, ...modes(path, `${prefix}${e.name}/`)] : [own]
  })
}

t.test("a data dir that exists at 0755 keeps its mode; member/ is 0700 and every file 0600, as etcd's", async (t) => {
  const dataDir = join(tempDir(t, 'etcdgw-modes-'), 'data')
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o755)
  const backend = await openEmbeddedBackend({ dataDir, name: 't', maxTxnOps: 128 })
  await backend.kv.put(put({ key: 'k', value: 'secret' }))
  await backend.maintenance.defragment()
  await backend.close()
  t.equal(mode(dataDir), 0o755, 'the data dir is left as it was (etcd warns instead)')
  t.same(modes(dataDir), ['700 member', '600 member/index.state', '600 member/store.mdb', '600 member/store.mdb-lock', '600 member/wal-N.log'], 'after a defragment too, and the index saved at close')
})

t.test('a data dir made by us is 0700', async (t) => {
  const dataDir = join(tempDir(t, 'etcdgw-modes-'), 'new', 'data')
  const backend = await openEmbeddedBackend({ dataDir, name: 't', maxTxnOps: 128 })
  await backend.close()
  t.equal(mode(dataDir), 0o700)
  t.equal(dataDirModeWarning(dataDir), undefined, 'nothing to warn about')
})

t.test('a store kept directly in the data dir (earlier layout) moves into member/ and is made private', async (t) => {
  const dataDir = join(tempDir(t, 'etcdgw-modes-'), 'data')
  mkdirSync(dataDir, { mode: 0o755 })
  const root = open({ path: join(dataDir, 'store.mdb'), overlappingSync: false, maxDbs: 8 })
  await root.close()
  chmodSync(join(dataDir, 'store.mdb'), 0o644)
  writeFileSync(join(dataDir, 'unrelated'), '')
  let backend = await openEmbeddedBackend({ dataDir, name: 't', maxTxnOps: 128 })
  await backend.kv.put(put({ key: 'k', value: 'v' }))
  await backend.close()
  t.same(modes(dataDir), ['700 member', '600 member/index.state', '600 member/store.mdb', '600 member/store.mdb-lock', '600 member/wal-N.log', '644 unrelated'])
  backend = await openEmbeddedBackend({ dataDir, name: 't', maxTxnOps: 128 })
  t.equal((await backend.kv.range(range({ key: 'k' }))).count, 1, 'the data came along')
  await backend.close()
})

t.test("serve warns about a data dir others can open, in etcd's words", async (t) => {
  const dataDir = join(tempDir(t, 'etcdgw-modes-'), 'data')
  mkdirSync(dataDir)
  chmodSync(dataDir, 0o755)
  const server = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', dataDir])
  const warning =
    `check file permission: directory "${dataDir}" exist, but the permission is "drwxr-xr-x". ` +
    'The recommended permission is "-rwx------" to prevent possible unprivileged access to the data.'
  await server.waitForOutput(/check file permission/)
  const logged = server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string })
    .find((line) => line.msg.startsWith('check file permission'))
  t.same(logged && [logged.level, logged.msg], [40, warning], 'a warning')
  t.same(modes(dataDir).slice(0, 2), ['700 member', '600 member/store.mdb'])
  server.child.kill('SIGTERM')
  await new Promise((resolve) => server.child.once('exit', resolve))
})
