/**
 * A caller's watch streams on the embedded store: a create is checked against what the caller may read
 * (etcd refuses it as a canceled `created` response, the error's gRPC status text as the reason). etcd 3.4
 * checks a create with range_end "\0" (every key from the key on) as if it named the key alone; here the
 * whole range is checked. Unlike etcd, a
 * watch does not outlive its permission: when the auth store changes, every live watch is checked
 * again, and one its caller may no longer read (or whose caller's token is gone) ends, canceled with
 * etcd's error as the reason. The stream stays open for what is still allowed.
 */
import type { Credentials, Watch, WatchCreateRequest, WatchRequest, WatchResponse, WatchStream } from '../backend/backend.js'
import { watchResponse } from '../backend/watch-stream.js'
import { Errors, etcdErrorOf, grpcStatusText } from '../errors.js'
import type { AuthStore } from './auth-store.js'

/** The refusals etcd's watch server names; any other is "permission denied". */
const stated = new Set([Errors.invalidAuthToken.code, Errors.authOldRevision.code, Errors.userEmpty.code])

type Range = Pick<WatchCreateRequest, 'key' | 'rangeEnd'>

export class GuardedWatch implements Watch {
  constructor(
    private readonly inner: Watch,
    private readonly store: AuthStore,
    private readonly credentials: Credentials,
  ) {}

  open(onResponse: (resp: WatchResponse) => void): WatchStream {
    return new GuardedWatchStream(this.inner, this.store, this.credentials, onResponse)
  }
}

class GuardedWatchStream implements WatchStream {
  private readonly inner: WatchStream
  /**
   * The creates not answered yet, in order (etcd answers creates in the order they came): the ranges of
   * those passed on, and the refusals made here, which wait for the answers of the creates before them.
   */
  private readonly pending: Array<{ range: Range } | { refusal: WatchResponse }> = []
  private readonly ranges = new Map<number, Range>()
  /** Watches ended here, by ID, with the reason their cancel response is to carry. */
  private readonly ending = new Map<number, string>()
  private readonly unsubscribe: () => void
  private expiry: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    watch: Watch,
    private readonly store: AuthStore,
    private readonly credentials: Credentials,
    private readonly onResponse: (resp: WatchResponse) => void,
  ) {
    this.inner = watch.open((resp) => this.respond(resp))
    this.unsubscribe = store.onChange(() => this.recheck())
    this.watchExpiry()
  }

  /**
   * A token's end ends its watches. The timer looks again when the token is due (a use elsewhere may have
   * renewed it, and a timer may fire a little before the wall clock says the token is due): a token still
   * alive arms it again, one gone ends every watch it opened.
   */
  private watchExpiry(): void {
    const { token } = this.credentials
    if (token === undefined) return
    const at = this.store.tokenExpiry(token)
    if (at === undefined) return this.recheck()
    this.expiry = setTimeout(() => {
      this.expiry = undefined
      this.watchExpiry()
    }, Math.max(0, at - Date.now()) + 1)
    this.expiry.unref()
  }

  get liveWatchIds(): ReadonlySet<number> {
    return this.inner.liveWatchIds
  }

  send(req: WatchRequest): void {
    if (req.kind === 'create') {
      const cancelReason = this.refusal(req.request, true)
      if (cancelReason !== undefined) {
        this.pending.push({ refusal: watchResponse(this.store.header(), -1, { created: true, canceled: true, cancelReason }) })
        return this.answerRefusals()
      }
      this.pending.push({ range: { key: req.request.key, rangeEnd: req.request.rangeEnd } })
    }
    this.inner.send(req)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.expiry)
    this.unsubscribe()
    this.inner.close()
  }

  /**
   * Why the caller may not watch the range now, as etcd's watch server says it (undefined: they may).
   * `use`: a create uses the token; a check of live watches only looks at it.
   */
  private refusal(range: Range, use: boolean): string | undefined {
    try {
      this.store.checkAccess(this.store.identify(this.credentials, use), 'read', range.key, range.rangeEnd)
      return undefined
    } catch (err) {
      const e = etcdErrorOf(err)
      return grpcStatusText(stated.has(e.code) ? e : Errors.permissionDenied())
    }
  }

  private respond(resp: WatchResponse): void {
    if (resp.created) {
      const created = this.pending.shift()
      if (created && 'range' in created && !resp.canceled) this.ranges.set(resp.watchId, created.range)
      this.onResponse(resp)
      this.answerRefusals()
      // a create that passed while its token lived, answered after the token's end, ends too
      if (this.expiry === undefined && !this.closed) this.watchExpiry()
      return
    } else if (resp.canceled) {
      this.ranges.delete(resp.watchId)
      const reason = this.ending.get(resp.watchId)
      if (reason !== undefined) {
        this.ending.delete(resp.watchId)
        resp = { ...resp, cancelReason: reason }
      }
    }
    this.onResponse(resp)
  }

  /** Sends the refusals no create before them waits for. */
  private answerRefusals(): void {
    while (this.pending[0] && 'refusal' in this.pending[0]) this.onResponse((this.pending.shift() as { refusal: WatchResponse }).refusal)
  }

  private recheck(): void {
    for (const [id, range] of this.ranges) {
      if (this.ending.has(id)) continue
      const refusal = this.refusal(range, false)
      if (refusal === undefined) continue
      this.ending.set(id, refusal)
      this.inner.send({ kind: 'cancel', request: { watchId: id } })
    }
  }
}
