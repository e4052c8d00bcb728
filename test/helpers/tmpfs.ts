import type { Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Why a tmpfs cannot be mounted here (false: it can). With CI=true that is a failure, never a skip. */
export function cannotMount(): string | false {
  if (process.getuid?.() === 0) return false
  const reason = 'mounting a tmpfs needs root'
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`)
  return reason
}

/** A small tmpfs of its own, unmounted at teardown (lazily: what still uses it may close after). */
export function smallDisk(t: Test, megabytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-disk-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', dir], { encoding: 'utf8' })
  if (mounted.status !== 0) throw new Error(`mount: ${mounted.stderr}`)
  t.teardown(() => {
    spawnSync('umount', ['-l', dir])
    rmSync(dir, { recursive: true, force: true })
  })
  return dir
}

/** Fills the file system at `dir` until `leave` bytes are left; returns the filling file. */
export function fill(dir: string, leave: number): string {
  const fs = statfsSync(dir)
  const filler = join(dir, 'filler')
  writeFileSync(filler, Buffer.alloc(fs.bavail * fs.bsize - leave))
  return filler
}
