import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { PkiError } from './errors.js'

/** Directories kubeadm creates for the PKI tree (client-go `WriteCert`/`WriteKey`). */
export const DIR_MODE = 0o755

/**
 * Writes `data` so that readers see either the old file or the complete new one: a temp file in the same
 * directory is written with its final mode, fsynced, renamed over the target, and the directory is fsynced
 * so the rename survives a crash.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode: number): Promise<void> {
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await mkdir(dir, { recursive: true, mode: DIR_MODE })
    const handle = await open(temp, 'wx', mode)
    try {
      await handle.writeFile(data)
      // open() honours the umask; the mode of a key file must not depend on it.
      await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, path)
    await syncDir(dir)
  } catch (err) {
    // best effort: the temp file may never have existed (e.g. the directory could not be made)
    await rm(temp, { force: true }).catch(() => undefined)
    throw new PkiError(path, `cannot write: ${(err as Error).message}`)
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
