/**
 * etcd's auth store (auth/store.go) for the embedded backend: users with bcrypt password hashes and
 * roles, roles with key-range permissions, the enabled flag and the auth revision, kept durably with the
 * store's other writes. Changes apply one at a time, each visible once durable, as etcd applies raft
 * entries. The permission checks themselves are guard.ts's; this file holds the data and its rules.
 */
import type { AuthenticateResponse, AuthUserAddRequest, Credentials, Permission, ResponseHeader } from '../backend/backend.js'
import { Errors } from '../errors.js'
import type { Passwords } from './passwords.js'
import { type Access, RangePermissions } from './permissions.js'
import type { TokenProvider } from './tokens.js'

export const ROOT_USER = 'root'
export const ROOT_ROLE = 'root'

export interface AuthUser {
  name: string
  /** The bcrypt hash; empty for a user added with no_password. */
  password: string
  /** Sorted, as etcd keeps them. */
  roles: string[]
  noPassword: boolean
}

export interface AuthRole {
  name: string
  /** In etcd's order (by key; see grantPermission). */
  perms: Permission[]
}

/** Everything the auth store keeps, as saved, snapshotted and restored. */
export interface AuthData {
  enabled: boolean
  revision: number
  users: AuthUser[]
  roles: AuthRole[]
}

/** A fresh etcd's auth store: disabled, at revision 1. */
export const FRESH_AUTH: AuthData = { enabled: false, revision: 1, users: [], roles: [] }

/** Who a request acts for, once its credentials are checked. */
export interface AuthInfo {
  user: string
  /** The auth revision the identity was established at. */
  revision: number
}

export interface AuthStoreOptions {
  saved: AuthData | undefined
  /** Writes the data durably, ordered with the store's other writes. */
  save(data: AuthData): Promise<void>
  /** An applied entry that writes nothing (etcd's authenticate goes through raft); resolves with its raft index. */
  recordEntry(): Promise<number>
  header(): ResponseHeader
  passwords: Passwords
  tokens: TokenProvider
}

type Listener = () => void

export class AuthStore {
  private data: AuthData
  private users: Map<string, AuthUser>
  private roles: Map<string, AuthRole>
  private readonly perms = new Map<string, RangePermissions>()
  /** Changes apply in order, one at a time. */
  private applying: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<Listener>()

  constructor(private readonly opts: AuthStoreOptions) {
    this.data = opts.saved ?? FRESH_AUTH
    this.users = new Map(this.data.users.map((u) => [u.name, u]))
    this.roles = new Map(this.data.roles.map((r) => [r.name, r]))
  }

  get enabled(): boolean {
    return this.data.enabled
  }

  get revision(): number {
    return this.data.revision
  }

  /** The data as it stands (for snapshots). */
  snapshot(): AuthData {
    return this.data
  }

  /** Runs after every applied change (a watch re-checks what its caller may still see). */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * etcd's AuthInfoFromCtx: a token names its user (an invalid one fails, whether auth is enabled or
   * not); without one, a verified client certificate's common name does (the HTTP layer gives one only
   * with --client-cert-auth). `use`: false to look without using a token (it does not renew it).
   */
  identify(credentials: Credentials, use = true): AuthInfo | undefined {
    if (credentials.token !== undefined) {
      const info = this.opts.tokens.info(credentials.token, use)
      if (!info) throw Errors.invalidAuthToken()
      return { user: info.user, revision: info.revision ?? this.data.revision }
    }
    if (credentials.commonName !== undefined) {
      return { user: credentials.commonName, revision: this.data.revision }
    }
    return undefined
  }

  /** When a token ends unless used again (undefined: it is not valid now). */
  tokenExpiry(token: string): number | undefined {
    return this.opts.tokens.expiresAt(token)
  }

  /** etcd's IsAdminPermitted: the user holds the root role (anyone while auth is disabled). */
  checkAdmin(info: AuthInfo | undefined): void {
    if (!this.data.enabled) return
    if (!info || info.user === '') throw Errors.userEmpty()
    const user = this.users.get(info.user)
    if (!user) throw Errors.userNotFound()
    if (!hasRootRole(user)) throw Errors.permissionDenied()
  }

  isAdmin(info: AuthInfo | undefined): boolean {
    try {
      this.checkAdmin(info)
      return true
    } catch {
      return false
    }
  }

  /** etcd's isOpPermitted on [key, rangeEnd) (no rangeEnd: the key alone; "\0": every key from key on). */
  checkAccess(info: AuthInfo | undefined, access: Access, key: Buffer, rangeEnd: Buffer): void {
    if (!this.data.enabled) return
    if (!info) throw Errors.userEmpty()
    if (info.revision < this.data.revision) throw Errors.authOldRevision()
    const user = this.users.get(info.user)
    if (!user) throw Errors.permissionDenied()
    if (hasRootRole(user)) return
    if (!this.permissionsOf(user).permits(access, key, rangeEnd)) throw Errors.permissionDenied()
  }

  hasRole(info: AuthInfo | undefined, role: string): boolean {
    return info !== undefined && (this.users.get(info.user)?.roles.includes(role) ?? false)
  }

  // ---- etcd's Auth service (who may call what is guard.ts's rule)

  async enable(): Promise<void> {
    await this.apply(() => {
      if (this.data.enabled) return undefined
      const root = this.users.get(ROOT_USER)
      if (!root) throw Errors.rootUserNotExist()
      if (!hasRootRole(root)) throw Errors.rootRoleNotExist()
      // etcd does not count enabling as an auth revision
      return { ...this.data, enabled: true }
    })
  }

  async disable(): Promise<void> {
    await this.apply(
      () => (this.data.enabled ? { ...this.next(), enabled: false } : undefined),
      () => this.opts.tokens.clear(),
    )
  }

  /**
   * etcd's CheckPassword, then (once `identifyCaller` accepts the request's own credentials) a token. A user that does not exist costs a hash comparison too, so the
   * answer's timing does not tell whether the name exists.
   */
  async authenticate(name: string, password: string, identifyCaller: () => void): Promise<AuthenticateResponse> {
    if (!this.data.enabled) throw Errors.authNotEnabled()
    const user = this.users.get(name)
    if (user?.noPassword) {
      await this.opts.passwords.matches(password, undefined)
      throw Errors.noPasswordUser()
    }
    if (!(await this.opts.passwords.matches(password, user?.password))) throw Errors.authFailed()
    identifyCaller()
    const index = await this.opts.recordEntry()
    // the password may have changed, or the user left, while it was compared
    if (this.users.get(name)?.password !== user!.password) throw Errors.authFailed()
    const token = await this.opts.tokens.assign(name, this.data.revision, index)
    return { header: this.opts.header(), token }
  }

  async userAdd(req: AuthUserAddRequest): Promise<void> {
    if (req.name.length === 0) throw Errors.userEmpty()
    const noPassword = req.options?.noPassword ?? false
    const password = noPassword ? '' : await this.opts.passwords.hash(req.password)
    await this.apply(() => {
      if (this.users.has(req.name)) throw Errors.userAlreadyExists()
      const user: AuthUser = { name: req.name, password, roles: [], noPassword }
      return this.withUsers([...this.data.users, user])
    })
  }

  userGet(name: string): string[] {
    const user = this.users.get(name)
    if (!user) throw Errors.userNotFound()
    return [...user.roles]
  }

  userList(): string[] {
    return [...this.users.keys()].sort(compareStrings)
  }

  async userDelete(name: string): Promise<void> {
    await this.apply(() => {
      if (this.data.enabled && name === ROOT_USER) throw Errors.invalidAuthMgmt()
      if (!this.users.has(name)) throw Errors.userNotFound()
      return this.withUsers(this.data.users.filter((u) => u.name !== name))
    }, () => this.opts.tokens.invalidateUser(name))
  }

  async userChangePassword(name: string, password: string): Promise<void> {
    const hash = await this.opts.passwords.hash(password)
    await this.apply(() => {
      const user = this.users.get(name)
      if (!user) throw Errors.userNotFound()
      // etcd keeps the options: a user added with no_password stays one
      return this.withUser({ ...user, password: hash })
    }, () => this.opts.tokens.invalidateUser(name))
  }

  async userGrantRole(name: string, role: string): Promise<void> {
    await this.apply(() => {
      const user = this.users.get(name)
      if (!user) throw Errors.userNotFound()
      if (role !== ROOT_ROLE && !this.roles.has(role)) throw Errors.roleNotFound()
      // granting a role the user has is a no-op, without a new revision
      if (user.roles.includes(role)) return undefined
      return this.withUser({ ...user, roles: [...user.roles, role].sort(compareStrings) })
    })
  }

  async userRevokeRole(name: string, role: string): Promise<void> {
    await this.apply(() => {
      if (this.data.enabled && name === ROOT_USER && role === ROOT_ROLE) throw Errors.invalidAuthMgmt()
      const user = this.users.get(name)
      if (!user) throw Errors.userNotFound()
      if (!user.roles.includes(role)) throw Errors.roleNotGranted()
      return this.withUser({ ...user, roles: user.roles.filter((r) => r !== role) })
    })
  }

  async roleAdd(name: string): Promise<void> {
    if (name.length === 0) throw Errors.roleEmpty()
    await this.apply(() => {
      if (this.roles.has(name)) throw Errors.roleAlreadyExists()
      return this.withRoles([...this.data.roles, { name, perms: [] }])
    })
  }

  roleGet(name: string): Permission[] {
    const role = this.roles.get(name)
    if (!role) throw Errors.roleNotFound()
    return role.perms.map((p) => ({ ...p }))
  }

  roleList(): string[] {
    return [...this.roles.keys()].sort(compareStrings)
  }

  async roleDelete(name: string): Promise<void> {
    await this.apply(() => {
      if (this.data.enabled && name === ROOT_ROLE) throw Errors.invalidAuthMgmt()
      if (!this.roles.has(name)) throw Errors.roleNotFound()
      const users = this.data.users.map((u) => (u.roles.includes(name) ? { ...u, roles: u.roles.filter((r) => r !== name) } : u))
      return { ...this.next(), users, roles: this.data.roles.filter((r) => r.name !== name) }
    })
  }

  /**
   * etcd 3.4's grant: the first permission whose key is not below the new one's, when it has the same
   * key and range end, takes the new type; otherwise the permission is added and the list sorted by key
   * (stable: permissions with equal keys stay in the order they were granted).
   */
  async roleGrantPermission(name: string, perm: Permission): Promise<void> {
    await this.apply(() => {
      const role = this.roles.get(name)
      if (!role) throw Errors.roleNotFound()
      const perms = role.perms.map((p) => ({ ...p }))
      const at = perms.find((p) => Buffer.compare(p.key, perm.key) >= 0)
      if (at && at.key.equals(perm.key) && at.rangeEnd.equals(perm.rangeEnd)) at.permType = perm.permType
      else {
        perms.push({ permType: perm.permType, key: Buffer.from(perm.key), rangeEnd: Buffer.from(perm.rangeEnd) })
        perms.sort((a, b) => Buffer.compare(a.key, b.key))
      }
      return this.withRole({ name, perms })
    })
  }

  /** Removes every permission with exactly this key and range end. */
  async roleRevokePermission(name: string, key: Buffer, rangeEnd: Buffer): Promise<void> {
    await this.apply(() => {
      const role = this.roles.get(name)
      if (!role) throw Errors.roleNotFound()
      const perms = role.perms.filter((p) => !(p.key.equals(key) && p.rangeEnd.equals(rangeEnd)))
      if (perms.length === role.perms.length) throw Errors.permissionNotGranted()
      return this.withRole({ name, perms })
    })
  }

  header(): ResponseHeader {
    return this.opts.header()
  }

  // ---- applying changes

  /** The data with the auth revision counted up (etcd's commitRevision). */
  private next(): AuthData {
    return { ...this.data, revision: this.data.revision + 1 }
  }

  private withUsers(users: AuthUser[]): AuthData {
    return { ...this.next(), users }
  }

  private withUser(user: AuthUser): AuthData {
    return this.withUsers(this.data.users.map((u) => (u.name === user.name ? user : u)))
  }

  private withRoles(roles: AuthRole[]): AuthData {
    return { ...this.next(), roles }
  }

  private withRole(role: AuthRole): AuthData {
    return this.withRoles(this.data.roles.map((r) => (r.name === role.name ? role : r)))
  }

  /**
   * Runs `change` after every change before it; what it returns (undefined: nothing changes) is saved,
   * and takes effect once durable, with `effects` (on tokens) at the same moment. A change that throws
   * changes nothing.
   */
  private apply(change: () => AuthData | undefined, effects?: () => void): Promise<void> {
    const applied = this.applying.then(async () => {
      const next = change()
      if (!next) return
      await this.opts.save(next)
      this.install(next, effects)
    })
    this.applying = applied.catch(() => undefined)
    return applied
  }

  private install(next: AuthData, effects?: () => void): void {
    this.data = next
    this.users = new Map(next.users.map((u) => [u.name, u]))
    this.roles = new Map(next.roles.map((r) => [r.name, r]))
    this.perms.clear()
    effects?.()
    for (const listener of this.listeners) listener()
  }

  private permissionsOf(user: AuthUser): RangePermissions {
    let perms = this.perms.get(user.name)
    if (!perms) {
      perms = new RangePermissions(user.roles.flatMap((r) => this.roles.get(r)?.perms ?? []))
      this.perms.set(user.name, perms)
    }
    return perms
  }
}

function hasRootRole(user: AuthUser): boolean {
  return user.roles.includes(ROOT_ROLE)
}

/** Go's string order (bytes), which sort.Strings uses. */
function compareStrings(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
