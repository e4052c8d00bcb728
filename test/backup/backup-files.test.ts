import t from 'tap'
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBackup, listBackups } from '../../src/backup/backup-files.js'

t.test('a backup removed while the directory is listed (retention of a running schedule) is left out, not an error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-backup-files-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'snapshot-20261206-120000.db'), 'snapshot')
  writeFileSync(join(dir, 'snapshot-20261206-120000.db.json'), JSON.stringify({ name: 'snapshot-20261206-120000.db', fileBytes: 8 }))
  // listed by name, gone when looked at: what a backup deleted between the two steps looks like
  symlinkSync(join(dir, 'deleted.db'), join(dir, 'snapshot-20261206-120100.db'))
  t.same(listBackups(dir).map((e) => [e.name, e.fileBytes, e.record !== undefined]), [['snapshot-20261206-120000.db', 8, true]])
  t.equal(findBackup(dir, 'latest').name, 'snapshot-20261206-120000.db')
})
