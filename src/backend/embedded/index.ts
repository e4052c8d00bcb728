import type { Backend, ResponseHeader } from '../backend.js'
import { AuthStore } from '../../auth/auth-store.js'
import { AuthGuard } from '../../auth/guard.js'
import { DEFAULT_BCRYPT_COST, Passwords } from '../../auth/passwords.js'
import { AUTH_META_KEY, fromSaved, type SavedAuth, toSaved } from '../../auth/saved-auth.js'
import { JwtTokens } from '../../auth/jwt-tokens.js'
import { DEFAULT_TOKEN_TTL_SECONDS, SimpleTokens } from '../../auth/simple-tokens.js'
import type { AuthTokenConfig } from '../../auth/token-config.js'
import { grpcMessageLimit } from '../../proto-size.js'
import { AlarmGuard } from './alarm-guard.js'
import { AlarmStore } from './alarm-store.js'
import { EmbeddedCluster } from './cluster.js'
import { EmbeddedKV } from './kv.js'
import { EmbeddedLease } from './lease.js'
import { LeaseAttachments } from './lease-attachments.js'
import { Lessor } from './lessor.js'
import { EmbeddedMaintenance } from './maintenance.js'
import { MvccStore } from './mvcc-store.js'
import { storeMetrics } from './store-metrics.js'
import { WatchHub } from './watch-hub.js'
import { LEASES } from './logged-writes.js'

export interface EmbeddedOptions {
  dataDir: string
  /** This member's name (etcd's --name). */
  name: string
  /** Client URLs this member advertises (etcd's --advertise-client-urls), for member list. */
  clientUrls?: string[]
  /** etcd's --quota-backend-bytes: 0 means etcd's default (2 GiB), negative means none. */
  quotaBackendBytes?: number
  /** etcd's --max-txn-ops. */
  maxTxnOps: number
  /** etcd's --experimental-watch-progress-notify-interval, in ms (default 10 minutes). */
  progressNotifyIntervalMs?: number
  /** etcd's --max-request-bytes (default 1.5 MiB): watches created with `fragment` split responses above it. */
  maxRequestBytes?: number
  /** Lease timing; etcd's defaults follow from its 1 s election timeout. */
  minLeaseTtl?: number
  leaseCheckIntervalMs?: number
  /** etcd's --bcrypt-cost (default 10). */
  bcryptCost?: number
  /** etcd's --auth-token (default simple). */
  authToken?: AuthTokenConfig
  /** etcd's --auth-token-ttl in seconds (default 300), for simple tokens. */
  authTokenTtlSeconds?: number
}

const ELECTION_TIMEOUT_MS = 1000
/** etcd's --max-request-bytes default. */
const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024
/** etcd's DefaultQuotaBytes. */
const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024

/** The default backend: a durable single-member store with etcd's MVCC semantics. */
export async function openEmbeddedBackend(opts: EmbeddedOptions): Promise<Backend> {
  const attachments = new LeaseAttachments()
  const store = await MvccStore.open(opts.dataDir, attachments)
  const header = (revision: number): ResponseHeader => ({
    clusterId: store.clusterId,
    memberId: store.memberId,
    revision,
    raftTerm: store.raftTerm,
  })
  const lessor = new Lessor(store, attachments, () => store.table<number>(LEASES), {
    minTtl: opts.minLeaseTtl ?? Math.ceil((1.5 * ELECTION_TIMEOUT_MS) / 1000),
    checkIntervalMs: opts.leaseCheckIntervalMs ?? 500,
    restartExtensionMs: ELECTION_TIMEOUT_MS,
    now: Date.now,
  })
  lessor.restore()
  const kv = new EmbeddedKV(store, { maxTxnOps: opts.maxTxnOps, leaseExists: (id) => lessor.exists(id), header })
  const watch = new WatchHub(store, {
    header,
    progressNotifyIntervalMs: opts.progressNotifyIntervalMs ?? 600_000,
    maxResponseBytes: grpcMessageLimit(opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES),
  })
  const alarms = new AlarmStore(store)
  const quota = opts.quotaBackendBytes ?? 0
  const quotaBytes = quota === 0 ? DEFAULT_QUOTA_BYTES : quota
  const guard = new AlarmGuard(alarms, {
    quotaBytes,
    // the logged writes lmdb has yet to take count as the file they will grow
    dbSize: (recent) => store.sizeOnceStored(recent),
    diskFree: (recent) => store.freeOnceStored(recent),
    memberId: store.memberId,
  })
  const saved = store.getMeta<SavedAuth>(AUTH_META_KEY)
  const auth = new AuthStore({
    saved: saved && fromSaved(saved),
    save: (data) => store.setMeta(AUTH_META_KEY, toSaved(data)),
    recordEntry: async () => {
      await store.persistOther(() => undefined)
      return store.appliedIndex
    },
    header: () => header(store.committedRev),
    passwords: new Passwords(opts.bcryptCost ?? DEFAULT_BCRYPT_COST),
    tokens:
      opts.authToken?.kind === 'jwt'
        ? new JwtTokens(opts.authToken)
        : new SimpleTokens((opts.authTokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) * 1000),
  })
  const self = { id: store.memberId, name: opts.name, peerUrls: [], clientUrls: opts.clientUrls ?? [], isLearner: false }
  const maintenance = new EmbeddedMaintenance(store, alarms, header)
  const services = {
    kv: guard.kv(kv),
    lease: guard.lease(new EmbeddedLease(lessor, () => header(store.committedRev))),
    watch,
    maintenance,
    cluster: new EmbeddedCluster(self, () => header(0)),
  }
  const checked = new AuthGuard(services, auth, opts.maxTxnOps)
  // a request without credentials (every request while auth is off) gets this one, made once
  let anonymous: Backend | undefined
  const backend: Backend = {
    // the server's own use (health, metrics, backups): unchecked
    ...services,
    metrics: storeMetrics({ store, lessor, watch, maintenance, auth }, { quotaBytes: quotaBytes > 0 ? quotaBytes : undefined }),
    auth: checked.services({}).auth,
    as: (credentials) => {
      if (credentials.token !== undefined || credentials.commonName !== undefined) return { ...backend, ...checked.services(credentials) }
      return (anonymous ??= { ...backend, ...checked.services(credentials) })
    },
    async close() {
      watch.close()
      await lessor.close()
      await store.close()
    },
  }
  return backend
}
