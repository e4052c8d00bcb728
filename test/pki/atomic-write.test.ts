import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { writeFileAtomic, PkiError } from '../../pki/index.js'
import { tempDir } from './fixture.js'

t.test('writes with the requested mode regardless of umask, replaces atomically, leaves no temp file', async (t) => {
  const dir = await tempDir(t)
  const file = join(dir, 'sub/dir/a.key')
  const umask = process.umask(0o077)
  try {
    await writeFileAtomic(join(dir, 'sub/dir/a.crt'), 'cert', 0o644)
  } finally {
    process.umask(umask)
  }
  t.equal((await stat(join(dir, 'sub/dir/a.crt'))).mode & 0o777, 0o644)
  await writeFile(file, 'old', { mode: 0o644 })
  await writeFileAtomic(file, 'new', 0o600)
  t.equal(await readFile(file, 'utf8'), 'new')
  t.equal((await stat(file)).mode & 0o777, 0o600, 'mode of the replacement, not of the old file')
  t.same((await readdir(join(dir, 'sub/dir'))).sort(), ['a.crt', 'a.key'])
})

t.test('a failed write names the file and removes its temp file', { skip: process.getuid?.() === 0 ? 'root ignores directory permissions' : false }, async (t) => {
  const dir = await tempDir(t)
  const locked = join(dir, 'locked')
  await mkdir(locked)
  await chmod(locked, 0o500)
  await t.rejects(writeFileAtomic(join(locked, 'x.key'), 'k', 0o600), PkiError)
  t.same(await readdir(locked), [])
})

t.test('a write into a path whose directory is a file fails naming the file', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'plain'), '')
  await t.rejects(writeFileAtomic(join(dir, 'plain/x.crt'), 'c', 0o644), { name: 'PkiError', file: join(dir, 'plain/x.crt'), message: /plain\/x\.crt: cannot write: / })
  t.same(await readdir(dir), ['plain'])
})
