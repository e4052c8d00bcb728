/** etcd's auth store as its db keeps it: the `auth` bucket (flag and revision), `authUsers` and `authRoles`. */
import type { AuthData } from '../auth/auth-store.js'
import { Errors } from '../errors.js'
import type { BoltFile } from './bolt-reader.js'
import { AUTH_KEYS, BUCKETS, decodeAuthRole, decodeAuthUser } from './etcd-db.js'

export function readAuth(db: BoltFile): AuthData {
  let enabled = false
  let revision = 1
  for (const { key, value } of db.entries(BUCKETS.auth)) {
    const name = key.toString('latin1')
    if (name === AUTH_KEYS.enabled) enabled = value.length === 1 && value[0] === 1
    else if (name === AUTH_KEYS.revision) {
      if (value.length !== 8) throw Errors.snapshotInvalid(`${db.path}: auth ${name} is ${value.length} bytes, not 8`)
      revision = Number(value.readBigUInt64BE(0))
    }
  }
  const users = [...db.entries(BUCKETS.authUsers)].map(({ value }) => decodeAuthUser(value))
  const roles = [...db.entries(BUCKETS.authRoles)].map(({ value }) => decodeAuthRole(value))
  return { enabled, revision, users, roles }
}
