/** The auth store's data as the embedded store keeps it in its meta table (plain values: bytes as base64). */
import type { AuthData } from './auth-store.js'

interface SavedPermission {
  type: number
  key: string
  end: string
}

export interface SavedAuth {
  enabled: boolean
  revision: number
  users: Array<{ name: string; password: string; roles: string[]; noPassword: boolean }>
  roles: Array<{ name: string; perms: SavedPermission[] }>
}

export const AUTH_META_KEY = 'auth'

export function toSaved(data: AuthData): SavedAuth {
  return {
    enabled: data.enabled,
    revision: data.revision,
    users: data.users.map((u) => ({ name: u.name, password: u.password, roles: u.roles, noPassword: u.noPassword })),
    roles: data.roles.map((r) => ({
      name: r.name,
      perms: r.perms.map((p) => ({ type: p.permType, key: p.key.toString('base64'), end: p.rangeEnd.toString('base64') })),
    })),
  }
}

export function fromSaved(saved: SavedAuth): AuthData {
  return {
    enabled: saved.enabled,
    revision: saved.revision,
    users: saved.users.map((u) => ({ ...u, roles: [...u.roles] })),
    roles: saved.roles.map((r) => ({
      name: r.name,
      perms: r.perms.map((p) => ({ permType: p.type, key: Buffer.from(p.key, 'base64'), rangeEnd: Buffer.from(p.end, 'base64') })),
    })),
  }
}
