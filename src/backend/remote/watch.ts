import type * as grpc from '@grpc/grpc-js'
import type { ResponseHeader, Watch, WatchCreateRequest, WatchResponse, WatchStream } from '../backend.js'
import { Errors } from '../../errors.js'
import { refusalResponse, ServerWatchStream, watchResponse, type WatchRange, type WatchRefusal, type WatchStreamBackend } from '../watch-stream.js'
import * as convert from './convert.js'
import { sleep, type EndpointPool } from './endpoint-pool.js'
import type { Member } from './member.js'
import type { PbEvent, PbWatchRequest, PbWatchResponse } from './messages.js'

/** A client's watch, alive across upstream streams. */
interface ClientWatch {
  readonly stream: ServerWatchStream<ClientWatch>
  readonly clientId: number
  readonly req: WatchCreateRequest
  /** its ID on the current upstream stream; 0 while it is not there */
  upstreamId: number
  /** the first revision the client has not seen; 0 until known (a create from "now" not yet answered) */
  nextRev: number
  /** the client got its `created` response */
  announced: boolean
  /** `canceling`: the client asked, upstream has not answered; `compacted`: etcd canceled it, the ID stays taken */
  state: 'active' | 'canceling' | 'compacted'
}

/** A progress request sent (or to be sent) upstream for a client's stream, and who gets etcd's answer. */
interface ProgressRequest {
  readonly stream: ServerWatchStream<ClientWatch>
  answer(resp: WatchResponse): void
}

/** What an upstream `created` response answers, in the order the creates were sent. */
type PendingCreate =
  | { kind: 'create' | 'resume'; watch: ClientWatch }
  /** a create etcd will refuse (empty range, duplicate ID): its refusal goes to the client as is */
  | { kind: 'refuse'; stream: ServerWatchStream<ClientWatch>; refusal: WatchRefusal }

interface Upstream {
  readonly member: Member
  readonly stream: grpc.ClientDuplexStream<PbWatchRequest, PbWatchResponse>
  readonly byId: Map<number, ClientWatch>
  readonly creates: PendingCreate[]
  /** progress requests waiting for etcd's answer, in order */
  readonly progress: ProgressRequest[]
  nextId: number
}

const MAX_BACKOFF_MS = 1_000

/**
 * etcd's Watch service in front of a cluster. All client watches share ONE upstream Watch stream on
 * the pool's current member, each under an upstream ID of ours. When that stream breaks, every watch
 * is created again on a healthy member from the revision after the last one its client saw, so
 * clients see no gap, no duplicate, and no second `created`; a revision compacted meanwhile ends the
 * watch with etcd's own compaction cancel.
 */
export class RemoteWatch implements Watch, WatchStreamBackend<ClientWatch> {
  /** every live watch, in creation order (the order they are re-created in) */
  private readonly watches = new Set<ClientWatch>()
  private upstream: Upstream | undefined
  /** progress requests waiting for an upstream */
  private progressQueue: ProgressRequest[] = []
  private lastHeader: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 }
  private backoffMs = 0
  private reconnecting = false
  private closed = false

  constructor(
    private readonly pool: EndpointPool,
    /** The token the upstream stream carries (etcd checks each create against its user). */
    private readonly token?: string,
  ) {}

  open(onResponse: (resp: WatchResponse) => void): WatchStream {
    return new ServerWatchStream(this, onResponse)
  }

  close(): void {
    this.closed = true
    this.upstream?.stream.cancel()
    this.upstream = undefined
    this.watches.clear()
  }

  start(stream: ServerWatchStream<ClientWatch>, clientId: number, _range: WatchRange, req: WatchCreateRequest): ClientWatch {
    const watch: ClientWatch = {
      stream,
      clientId,
      req,
      upstreamId: 0,
      nextRev: req.startRevision,
      announced: false,
      state: 'active',
    }
    // a newly opened upstream creates every known watch: register this one after it
    const up = this.connected()
    this.watches.add(watch)
    if (up) this.sendCreate(up, watch)
    return watch
  }

  cancel(_stream: ServerWatchStream<ClientWatch>, _id: number, watch: ClientWatch): void {
    if (watch.state === 'canceling') return
    const up = this.upstream
    if (watch.state === 'active' && up && watch.upstreamId !== 0) {
      watch.state = 'canceling'
      up.stream.write({ cancel_request: { watch_id: watch.upstreamId } })
      return
    }
    this.forget(watch)
    watch.stream.deliver(watchResponse(this.lastHeader, watch.clientId, { canceled: true }))
  }

  progress(stream: ServerWatchStream<ClientWatch>): void {
    this.requestProgress(stream, (resp) => stream.deliver(resp))
  }

  /** Asks etcd for a progress notification for `stream`; `answer` gets etcd's (unless the stream closes first). */
  requestProgress(stream: ServerWatchStream<ClientWatch>, answer: (resp: WatchResponse) => void): void {
    const request = { stream, answer }
    const up = this.connected()
    if (!up) {
      this.progressQueue.push(request)
      return
    }
    up.progress.push(request)
    up.stream.write({ progress_request: {} })
  }

  /** Drops a closing stream's watches (upstream cancels go out; their answers are ignored). */
  release(stream: ServerWatchStream<ClientWatch>, watches: readonly ClientWatch[]): void {
    for (const watch of watches) {
      if (this.upstream && watch.upstreamId !== 0) this.upstream.stream.write({ cancel_request: { watch_id: watch.upstreamId } })
      this.forget(watch)
    }
    this.progressQueue = this.progressQueue.filter((p) => p.stream !== stream)
  }

  /** The open upstream stream, opening one when none is (nor is being reconnected). */
  private connected(): Upstream | undefined {
    if (this.upstream || this.reconnecting || this.closed) return this.upstream
    const { member, stream } = this.pool.duplex<PbWatchRequest, PbWatchResponse>('Watch', 'Watch', false, this.token)
    const up: Upstream = { member, stream, byId: new Map(), creates: [], progress: [], nextId: 1 }
    this.upstream = up
    stream.on('data', (res: PbWatchResponse) => this.receive(up, res))
    stream.on('error', (err: Error) => void this.broken(up, err))
    stream.on('end', () => void this.broken(up, Errors.transportClosing()))
    for (const watch of this.watches) if (watch.state === 'active') this.sendCreate(up, watch)
    for (const waiting of this.progressQueue.splice(0)) {
      up.progress.push(waiting)
      stream.write({ progress_request: {} })
    }
    return up
  }

  private sendCreate(up: Upstream, watch: ClientWatch): void {
    watch.upstreamId = up.nextId++
    up.byId.set(watch.upstreamId, watch)
    const resume = watch.announced
    up.creates.push({ kind: resume ? 'resume' : 'create', watch })
    const start = resume ? watch.nextRev : watch.req.startRevision
    up.stream.write({ create_request: convert.watchCreateRequest(watch.req, watch.upstreamId, start) })
  }

  /** Has etcd itself refuse the create, so the refusal carries etcd's header and text. */
  refuse(stream: ServerWatchStream<ClientWatch>, req: WatchCreateRequest, refusal: WatchRefusal): void {
    const up = this.connected()
    if (!up) {
      stream.deliver(refusalResponse(this.lastHeader, refusal))
      return
    }
    up.creates.push({ kind: 'refuse', stream, refusal })
    // a duplicate ID is refused by naming an upstream ID in use; an empty range is refused as it is
    const taken = up.byId.keys().next()
    const id = refusal === Errors.duplicateWatchId && !taken.done ? taken.value : 0
    up.stream.write({ create_request: convert.watchCreateRequest(req, id, req.startRevision) })
  }

  private receive(up: Upstream, res: PbWatchResponse): void {
    if (this.upstream !== up) return
    this.backoffMs = 0
    const resHeader = convert.header(res.header)
    if (resHeader.memberId !== 0n) this.lastHeader = resHeader
    const upstreamId = Number(res.watch_id)
    if (res.created) return this.answerCreate(up, res)
    if (upstreamId === -1) {
      up.progress.shift()?.answer(convert.watchResponse(res, -1))
      return
    }
    const watch = up.byId.get(upstreamId)
    if (!watch) return
    if (res.canceled) {
      up.byId.delete(upstreamId)
      watch.upstreamId = 0
      if (watch.state === 'canceling') this.forget(watch)
      else {
        // etcd ended it (compaction): the ID stays taken on the client's stream, as on etcd
        this.watches.delete(watch)
        watch.state = 'compacted'
      }
      watch.stream.deliver(convert.watchResponse(res, watch.clientId))
      return
    }
    this.deliverEvents(watch, res)
  }

  private answerCreate(up: Upstream, res: PbWatchResponse): void {
    const pending = up.creates.shift()
    if (!pending) return
    if (pending.kind === 'refuse') {
      pending.stream.deliver(convert.watchResponse(res, -1))
      return
    }
    const watch = pending.watch
    if (res.canceled) {
      // etcd refused a create we thought valid (e.g. permission denied): pass its answer on
      up.byId.delete(watch.upstreamId)
      this.forget(watch)
      watch.stream.deliver(convert.watchResponse(res, -1))
      return
    }
    if (pending.kind === 'resume' || !this.watches.has(watch)) return
    if (watch.nextRev === 0) watch.nextRev = Number(res.header?.revision ?? 0) + 1
    watch.announced = true
    watch.stream.deliver(convert.watchResponse(res, watch.clientId))
  }

  private deliverEvents(watch: ClientWatch, res: PbWatchResponse): void {
    let events: PbEvent[] = res.events
    if (events.length > 0) {
      // guards the no-duplicate promise should a member ever replay what the client has
      events = events.filter((e) => Number(e.kv?.mod_revision ?? 0) >= watch.nextRev)
      if (events.length === 0) return
      if (!res.fragment) watch.nextRev = Number(events[events.length - 1]!.kv!.mod_revision) + 1
    } else {
      // a progress notification: the watch has seen every revision up to the header's
      watch.nextRev = Math.max(watch.nextRev, Number(res.header?.revision ?? 0) + 1)
    }
    watch.stream.deliver(convert.watchResponse(events === res.events ? res : { ...res, events }, watch.clientId))
  }

  private async broken(up: Upstream, err: unknown): Promise<void> {
    if (this.upstream !== up) return
    this.upstream = undefined
    up.stream.cancel()
    this.pool.reportFailure(up.member, err)
    this.progressQueue = [...up.progress, ...this.progressQueue]
    for (const pending of up.creates) {
      if (pending.kind === 'refuse') {
        pending.stream.deliver(refusalResponse(this.lastHeader, pending.refusal))
      }
    }
    for (const watch of [...this.watches]) {
      watch.upstreamId = 0
      if (watch.state === 'canceling') {
        this.forget(watch)
        watch.stream.deliver(watchResponse(this.lastHeader, watch.clientId, { canceled: true }))
      }
    }
    if (this.closed || (this.watches.size === 0 && this.progressQueue.length === 0)) return
    this.reconnecting = true
    this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(50, this.backoffMs * 2))
    await sleep(this.backoffMs)
    this.reconnecting = false
    if (!this.closed && (this.watches.size > 0 || this.progressQueue.length > 0)) this.connected()
  }

  private forget(watch: ClientWatch): void {
    this.watches.delete(watch)
    watch.stream.forget(watch.clientId)
    if (this.upstream && watch.upstreamId !== 0) this.upstream.byId.delete(watch.upstreamId)
    watch.upstreamId = 0
  }
}
