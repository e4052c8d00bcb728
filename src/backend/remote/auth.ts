/** etcd's Auth service, forwarded with the caller's token (etcd decides who may do what). */
import type {
  Auth,
  AuthenticateRequest,
  AuthenticateResponse,
  AuthHeaderResponse,
  AuthNameRequest,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionRequest,
  AuthRoleListResponse,
  AuthRoleRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserGetResponse,
  AuthUserGrantRoleRequest,
  AuthUserListResponse,
  AuthUserRevokeRoleRequest,
} from '../backend.js'
import { header } from './convert.js'
import type { Calls } from './endpoint-pool.js'
import type { PbResponseHeader } from './messages.js'

interface PbPermission {
  permType: number
  key: Buffer
  range_end: Buffer
}

interface PbAuthResponse {
  header: PbResponseHeader | null
  token?: string
  roles?: string[]
  users?: string[]
  perm?: PbPermission[]
}

/** Every Auth request goes through raft in etcd 3.4: none is sent twice unless it provably never left. */
export class RemoteAuth implements Auth {
  /** `learned`: told when an enable or disable through this gateway has been applied by etcd. */
  constructor(
    private readonly pool: Calls,
    private readonly learned: (enabled: boolean) => void = () => undefined,
  ) {}

  private async send(method: string, req: object): Promise<PbAuthResponse> {
    return this.pool.call<PbAuthResponse>('Auth', method, req, 'write')
  }

  private async headerOnly(method: string, req: object): Promise<AuthHeaderResponse> {
    return { header: header((await this.send(method, req)).header) }
  }

  async enable(): Promise<AuthHeaderResponse> {
    const res = await this.headerOnly('AuthEnable', {})
    this.learned(true)
    return res
  }

  async disable(): Promise<AuthHeaderResponse> {
    const res = await this.headerOnly('AuthDisable', {})
    this.learned(false)
    return res
  }

  async authenticate(req: AuthenticateRequest): Promise<AuthenticateResponse> {
    const res = await this.send('Authenticate', { name: req.name, password: req.password })
    return { header: header(res.header), token: res.token ?? '' }
  }

  userAdd(req: AuthUserAddRequest): Promise<AuthHeaderResponse> {
    const options = req.options ? { options: { no_password: req.options.noPassword } } : {}
    return this.headerOnly('UserAdd', { name: req.name, password: req.password, ...options })
  }

  async userGet(req: AuthNameRequest): Promise<AuthUserGetResponse> {
    const res = await this.send('UserGet', { name: req.name })
    return { header: header(res.header), roles: res.roles ?? [] }
  }

  async userList(): Promise<AuthUserListResponse> {
    const res = await this.send('UserList', {})
    return { header: header(res.header), users: res.users ?? [] }
  }

  userDelete(req: AuthNameRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('UserDelete', { name: req.name })
  }

  userChangePassword(req: AuthUserChangePasswordRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('UserChangePassword', { name: req.name, password: req.password })
  }

  userGrantRole(req: AuthUserGrantRoleRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('UserGrantRole', { user: req.user, role: req.role })
  }

  userRevokeRole(req: AuthUserRevokeRoleRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('UserRevokeRole', { name: req.name, role: req.role })
  }

  roleAdd(req: AuthNameRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('RoleAdd', { name: req.name })
  }

  async roleGet(req: AuthRoleRequest): Promise<AuthRoleGetResponse> {
    const res = await this.send('RoleGet', { role: req.role })
    const perm = (res.perm ?? []).map((p) => ({ permType: p.permType, key: p.key, rangeEnd: p.range_end }))
    return { header: header(res.header), perm }
  }

  async roleList(): Promise<AuthRoleListResponse> {
    const res = await this.send('RoleList', {})
    return { header: header(res.header), roles: res.roles ?? [] }
  }

  roleDelete(req: AuthRoleRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('RoleDelete', { role: req.role })
  }

  /** Always with a permission: etcd 3.4 crashes on a grant without one (an empty one is what it would read). */
  roleGrantPermission(req: AuthRoleGrantPermissionRequest): Promise<AuthHeaderResponse> {
    const p = req.perm ?? { permType: 0, key: Buffer.alloc(0), rangeEnd: Buffer.alloc(0) }
    return this.headerOnly('RoleGrantPermission', { name: req.name, perm: { permType: p.permType, key: p.key, range_end: p.rangeEnd } })
  }

  roleRevokePermission(req: AuthRoleRevokePermissionRequest): Promise<AuthHeaderResponse> {
    return this.headerOnly('RoleRevokePermission', { role: req.role, key: req.key, range_end: req.rangeEnd })
  }
}
