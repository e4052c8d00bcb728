import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PkiError } from './errors.js'

/** Directories kubeadm creates for the PKI tree (client-go `WriteCert`/`WriteKey`). */
export const DIR_MODE = 0o755

export interface FileToWrite {
  path: string
  data: string | Buffer
  mode: number
}

/**
 * Writes `data` so that readers see either the old file or the complete new one: a temp file in the same
 * directory is written with its final mode, fsynced, renamed over the target, and the directory is fsynced
 * so the rename survives a crash.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  await writeFilesAtomic([{ path, data, mode }])
}

/**
 * Writes several files as writeFileAtomic does, with every temp file complete and fsynced before the first
 * rename, then the renames back to back in the order given: a reader of the set (etcd loads its key pair
 * on every handshake) sees it mixed only for the few microseconds between two renames, not for the fsyncs.
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<void> {
  const temps = files.map(({ path }) => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`))
  let current = files[0]?.path ?? ''
  try {
    for (const [i, { path, data, mode }] of files.entries()) {
      current = path
      await mkdir(dirname(path), { recursive: true, mode: DIR_MODE })
      const handle = await open(temps[i]!, 'wx', mode)
      try {
        await handle.writeFile(data)
        // open() honours the umask; the mode of a key file must not depend on it.
        await handle.chmod(mode)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
    for (const [i, { path }] of files.entries()) {
      current = path
      await rename(temps[i]!, path)
    }
    for (const dir of new Set(files.map(({ path }) => dirname(path)))) await syncDir(dir)
  } catch (err) {
    // best effort: a temp file may never have existed (e.g. the directory could not be made) or be renamed already
    await Promise.all(temps.map((temp) => rm(temp, { force: true }).catch(() => undefined)))
    throw new PkiError(current, `cannot write: ${(err as Error).message}`)
  }
}

/** Makes a rename in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
