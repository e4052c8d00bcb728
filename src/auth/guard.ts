/**
 * The permission checks between the routes and the embedded store, one place for every transport: each
 * call of a caller's backend is checked as etcd checks it (auth/store.go's isOpPermitted and
 * IsAdminPermitted, etcdserver/apply_auth.go, v3rpc's maintenance and watch servers), in etcd's order:
 * the request's own checks first, then who the caller is, then what they may do.
 */
import type {
  Auth,
  Backend,
  Cluster,
  Credentials,
  DeleteRangeRequest,
  KV,
  Lease,
  Maintenance,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../backend/backend.js'
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from '../backend/embedded/request-checks.js'
import { Errors, etcdErrorOf } from '../errors.js'
import type { AuthInfo, AuthStore } from './auth-store.js'
import { GuardedWatch } from './guarded-watch.js'

/** The embedded backend's services, unchecked. */
export type Services = Pick<Backend, 'kv' | 'lease' | 'watch' | 'maintenance' | 'cluster'>

export class AuthGuard {
  private readonly anonymous: Services & { auth: Auth }

  constructor(
    private readonly base: Services,
    private readonly store: AuthStore,
    private readonly maxTxnOps: number,
  ) {
    this.anonymous = this.checked({})
  }

  /** The services as the caller with these credentials may use them. */
  services(credentials: Credentials): Services & { auth: Auth } {
    if (credentials.token === undefined && credentials.commonName === undefined) return this.anonymous
    return this.checked(credentials)
  }

  private checked(credentials: Credentials): Services & { auth: Auth } {
    const caller = new Caller(this.store, credentials)
    return {
      kv: this.kv(caller),
      lease: this.lease(caller),
      watch: new GuardedWatch(this.base.watch, this.store, credentials),
      maintenance: this.maintenance(caller),
      cluster: this.cluster(caller),
      auth: authService(this.store, caller),
    }
  }

  private kv(caller: Caller): KV {
    const { kv } = this.base
    const { store } = this
    return {
      range: async (req: RangeRequest) => {
        checkRangeRequest(req)
        store.checkAccess(caller.info(), 'read', req.key, req.rangeEnd)
        return kv.range(req)
      },
      put: async (req: PutRequest) => {
        checkPutRequest(req)
        await this.checkPut(caller.info(), req)
        return kv.put(req)
      },
      deleteRange: async (req: DeleteRangeRequest) => {
        checkDeleteRequest(req)
        this.checkDelete(caller.info(), req)
        return kv.deleteRange(req)
      },
      txn: async (req: TxnRequest) => {
        checkTxnRequest(req, this.maxTxnOps)
        this.checkTxn(caller.info(), req)
        return kv.txn(req)
      },
      compact: async (req) => {
        // etcd reads the caller from the token (an invalid one fails) and checks nothing more
        caller.info()
        return kv.compact(req)
      },
    }
  }

  /** etcd's Put: write on the key, write on every key of the lease it attaches, read for prev_kv. */
  private async checkPut(info: AuthInfo | undefined, req: PutRequest): Promise<void> {
    this.store.checkAccess(info, 'write', req.key, EMPTY)
    if (req.lease !== 0n) await this.checkLeaseKeys(info, req.lease)
    if (req.prevKv) this.store.checkAccess(info, 'read', req.key, EMPTY)
  }

  private checkDelete(info: AuthInfo | undefined, req: DeleteRangeRequest): void {
    this.store.checkAccess(info, 'write', req.key, req.rangeEnd)
    if (req.prevKv) this.store.checkAccess(info, 'read', req.key, req.rangeEnd)
  }

  /**
   * etcd's checkTxnAuth: read on every compare, then each op of both branches. etcd 3.4 skips the ops of
   * a nested txn (3.5 checks them): they are checked here, as 3.5 does.
   */
  private checkTxn(info: AuthInfo | undefined, req: TxnRequest): void {
    for (const c of req.compare) this.store.checkAccess(info, 'read', c.key, c.rangeEnd)
    for (const op of req.success) this.checkOp(info, op)
    for (const op of req.failure) this.checkOp(info, op)
  }

  private checkOp(info: AuthInfo | undefined, op: RequestOp): void {
    switch (op.kind) {
      case 'range':
        return this.store.checkAccess(info, 'read', op.request.key, op.request.rangeEnd)
      case 'put':
        return this.store.checkAccess(info, 'write', op.request.key, EMPTY)
      case 'deleteRange':
        if (op.request.prevKv) this.store.checkAccess(info, 'read', op.request.key, op.request.rangeEnd)
        return this.store.checkAccess(info, 'write', op.request.key, op.request.rangeEnd)
      case 'txn':
        return this.checkTxn(info, op.request)
      case 'none':
        return
    }
  }

  /** etcd's checkLeasePuts: the caller may write every key attached to the lease (a missing lease has none). */
  private async checkLeaseKeys(info: AuthInfo | undefined, id: bigint): Promise<void> {
    if (!this.store.enabled) return
    const { keys } = await this.base.lease.timeToLive({ id, keys: true })
    for (const key of keys) this.store.checkAccess(info, 'write', key, EMPTY)
  }

  private lease(caller: Caller): Lease {
    const { lease } = this.base
    return {
      grant: async (req) => {
        caller.info()
        return lease.grant(req)
      },
      revoke: async (id) => {
        await this.checkLeaseKeys(caller.info(), id)
        return lease.revoke(id)
      },
      // etcd 3.4 reads no caller for these: not even an invalid token is refused
      keepAlive: (id) => lease.keepAlive(id),
      timeToLive: (req) => lease.timeToLive(req),
      leases: () => lease.leases(),
    }
  }

  private maintenance(caller: Caller): Maintenance {
    const m = this.base.maintenance
    const { store } = this
    // etcd's maintenance server passes the auth store's errors on unconverted
    const unconverted = <T>(check: () => T): T => {
      try {
        return check()
      } catch (err) {
        throw Errors.authUnconverted(etcdErrorOf(err))
      }
    }
    const admin = () => unconverted(() => store.checkAdmin(caller.info()))
    return {
      alarm: async (req) => {
        unconverted(() => caller.info())
        return m.alarm(req)
      },
      status: () => m.status(),
      hash: async () => {
        admin()
        return m.hash()
      },
      defragment: async () => {
        admin()
        return m.defragment()
      },
      snapshot: async function* () {
        admin()
        yield* m.snapshot()
      },
      moveLeader: (targetId) => m.moveLeader(targetId),
    }
  }

  private cluster(caller: Caller): Cluster {
    const c = this.base.cluster
    const admin = () => this.store.checkAdmin(caller.info())
    return {
      memberList: () => c.memberList(),
      memberAdd: async (peerUrls, isLearner) => {
        admin()
        return c.memberAdd(peerUrls, isLearner)
      },
      memberRemove: async (id) => {
        admin()
        return c.memberRemove(id)
      },
      memberUpdate: async (id, peerUrls) => {
        admin()
        return c.memberUpdate(id, peerUrls)
      },
      memberPromote: async (id) => {
        admin()
        return c.memberPromote(id)
      },
    }
  }
}

const EMPTY = Buffer.alloc(0)

/** A caller's credentials, read again at each call: a token can end between two calls. */
class Caller {
  constructor(
    private readonly store: AuthStore,
    private readonly credentials: Credentials,
  ) {}

  info(): AuthInfo | undefined {
    return this.store.identify(this.credentials)
  }
}

/** etcd's Auth service: root only, but for a user reading themselves or one of their roles. */
function authService(store: AuthStore, caller: Caller): Auth {
  const header = () => ({ header: store.header() })
  const admin = () => store.checkAdmin(caller.info())
  const asAdmin = <T>(run: () => Promise<T> | T) => async () => {
    admin()
    return run()
  }
  return {
    enable: asAdmin(async () => (await store.enable(), header())),
    disable: asAdmin(async () => (await store.disable(), header())),
    // etcd checks the password before it reads the caller's token
    authenticate: (req) => store.authenticate(req.name, req.password, () => caller.info()),
    userAdd: async (req) => (admin(), await store.userAdd(req), header()),
    userGet: async (req) => {
      const info = caller.info()
      if (!store.isAdmin(info) && info?.user !== req.name) store.checkAdmin(info)
      return { ...header(), roles: store.userGet(req.name) }
    },
    userList: asAdmin(() => ({ ...header(), users: store.userList() })),
    userDelete: async (req) => (admin(), await store.userDelete(req.name), header()),
    userChangePassword: async (req) => (admin(), await store.userChangePassword(req.name, req.password), header()),
    userGrantRole: async (req) => (admin(), await store.userGrantRole(req.user, req.role), header()),
    userRevokeRole: async (req) => (admin(), await store.userRevokeRole(req.name, req.role), header()),
    roleAdd: async (req) => (admin(), await store.roleAdd(req.name), header()),
    roleGet: async (req) => {
      const info = caller.info()
      if (!store.isAdmin(info) && !store.hasRole(info, req.role)) store.checkAdmin(info)
      return { ...header(), perm: store.roleGet(req.role) }
    },
    roleList: asAdmin(() => ({ ...header(), roles: store.roleList() })),
    roleDelete: async (req) => (admin(), await store.roleDelete(req.role), header()),
    roleGrantPermission: async (req) => (admin(), await store.roleGrantPermission(req.name, req.perm ?? EMPTY_PERMISSION), header()),
    roleRevokePermission: async (req) => (admin(), await store.roleRevokePermission(req.role, req.key, req.rangeEnd), header()),
  }
}

const EMPTY_PERMISSION = { permType: 0, key: EMPTY, rangeEnd: EMPTY }
