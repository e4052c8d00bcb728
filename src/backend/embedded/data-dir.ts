/** The data dir as etcd lays it out: the store lives in `member/` (0700) with files 0600, whatever the mode of a data dir that already existed. */
import { chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** etcd's privateDirMode and privateFileMode. */
export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/**
 * Creates the data dir (0700) when missing and its `member/` folder, which is made 0700 even in a data
 * dir others can open (Docker volumes and systemd units create them 0755). A store an earlier etcdgw
 * kept directly in the data dir moves into `member/` with its lock file. Returns the member folder.
 */
export function prepareDataDir(dataDir: string, storeFile: string): string {
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE })
  const member = join(dataDir, 'member')
  mkdirSync(member, { mode: PRIVATE_DIR_MODE, recursive: true })
  chmodSync(member, PRIVATE_DIR_MODE)
  if (existsSync(join(dataDir, storeFile)) && !existsSync(join(member, storeFile))) {
    for (const name of [storeFile, `${storeFile}-lock`]) {
      if (!existsSync(join(dataDir, name))) continue
      renameSync(join(dataDir, name), join(member, name))
      chmodSync(join(member, name), PRIVATE_FILE_MODE)
    }
  }
  return member
}

/**
 * etcd's warning for a data dir whose mode is not 0700 (pkg/fileutil CheckDirPermission), in its words;
 * undefined when the mode is right.
 */
export function dataDirModeWarning(dataDir: string): string | undefined {
  const mode = statSync(dataDir).mode & 0o777
  if (mode === PRIVATE_DIR_MODE) return undefined
  return (
    `check file permission: directory "${dataDir}" exist, but the permission is "${goFileMode(mode, true)}". ` +
    `The recommended permission is "${goFileMode(PRIVATE_DIR_MODE, false)}" to prevent possible unprivileged access to the data.`
  )
}

/** Go's os.FileMode.String() for permission bits: "drwxr-xr-x". */
function goFileMode(perm: number, dir: boolean): string {
  let s = dir ? 'd' : '-'
  for (let shift = 6; shift >= 0; shift -= 3) {
    const bits = (perm >> shift) & 7
    s += (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (bits & 1 ? 'x' : '-')
  }
  return s
}
