/**
 * etcd's serverWatchStream (v3rpc/watch.go) for both backends: one client stream's watch IDs, the
 * range a create names, which of its watches are live, and the answers a backend makes without a
 * store or an upstream. A backend supplies only what it does with a watch (WatchStreamBackend).
 */
import type { ResponseHeader, WatchCreateRequest, WatchRequest, WatchResponse, WatchStream } from './backend.js'
import { Errors } from '../errors.js'
import { isEmptyRange, watchRange } from './key-range.js'

/** Why a create is refused before any backend sees it: mvcc's errors, sent as the cancel reason. */
export type WatchRefusal = typeof Errors.emptyWatcherRange | typeof Errors.duplicateWatchId

export interface WatchStreamBackend<W> {
  /** Starts watch `id` over `range`; the answer (created, or a refusal) goes out through `stream.deliver`. */
  start(stream: ServerWatchStream<W>, id: number, range: WatchRange, req: WatchCreateRequest): W
  /** Answers a create refused here: the canceled `created` response with the refusal's text. */
  refuse(stream: ServerWatchStream<W>, req: WatchCreateRequest, refusal: WatchRefusal): void
  /** The client canceled a watch of this stream; `stream.forget(id)` once it is gone. */
  cancel(stream: ServerWatchStream<W>, id: number, watch: W): void
  /** The client asked for a progress notification (watch ID -1). */
  progress(stream: ServerWatchStream<W>): void
  /** The stream closed with these watches: drop them, nothing more is delivered. */
  release(stream: ServerWatchStream<W>, watches: readonly W[]): void
}

export interface WatchRange {
  key: Buffer
  /** undefined: the key alone; empty: every key >= key; else [key, end) */
  end: Buffer | undefined
}

export class ServerWatchStream<W> implements WatchStream {
  /** Every ID taken on the stream, including compacted watches (etcd answers a later cancel for them). */
  private readonly watches = new Map<number, W>()
  private readonly live = new Set<number>()
  private nextId = 0
  private closed = false
  private told = 0

  constructor(
    private readonly backend: WatchStreamBackend<W>,
    private readonly onResponse: (resp: WatchResponse) => void,
  ) {}

  get liveWatchIds(): ReadonlySet<number> {
    return this.live
  }

  /** Every watch ID taken on the stream and its watch (those not yet created or canceled too). */
  get watchesById(): ReadonlyMap<number, W> {
    return this.watches
  }

  get isClosed(): boolean {
    return this.closed
  }

  /**
   * The highest revision the client has been told of: the last event's, or a progress notification's.
   * A progress answer below it would take the client back.
   */
  get revisionTold(): number {
    return this.told
  }

  send(req: WatchRequest): void {
    if (this.closed) return
    switch (req.kind) {
      case 'create':
        return this.create(req.request)
      case 'cancel': {
        const { watchId } = req.request
        const watch = this.watches.get(watchId)
        // canceling an unknown ID is silently ignored, as etcd does
        if (watch !== undefined) this.backend.cancel(this, watchId, watch)
        return
      }
      case 'progress':
        return this.backend.progress(this)
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    const watches = [...this.watches.values()]
    this.watches.clear()
    this.live.clear()
    this.backend.release(this, watches)
  }

  /** Sends a response to the client (none once the stream is closed), keeping track of live watches. */
  deliver(resp: WatchResponse): void {
    if (this.closed) return
    if (resp.created) {
      if (!resp.canceled) this.live.add(resp.watchId)
    } else if (resp.canceled) {
      this.live.delete(resp.watchId)
    } else {
      const told = resp.events.length > 0 ? resp.events[resp.events.length - 1]!.kv.modRevision : resp.header.revision
      if (told > this.told) this.told = told
    }
    this.onResponse(resp)
  }

  /** The watch has left the stream: its ID may be taken again. */
  forget(id: number): void {
    this.watches.delete(id)
  }

  private create(req: WatchCreateRequest): void {
    const range = watchRange(req)
    if (isEmptyRange(range.key, range.end)) return this.backend.refuse(this, req, Errors.emptyWatcherRange)
    let id = req.watchId
    // etcd's watchStream.Watch: the lowest free ID from the last one given, or the client's own
    if (id === 0) {
      while (this.watches.has(this.nextId)) this.nextId++
      id = this.nextId++
    } else if (this.watches.has(id)) {
      return this.backend.refuse(this, req, Errors.duplicateWatchId)
    }
    const watch = this.backend.start(this, id, range, req)
    // the client may have been cut off while the watch started (its replay overflowed the stream)
    if (this.closed) this.backend.release(this, [watch])
    else this.watches.set(id, watch)
  }
}

/** A response of one watch (a progress notification under -1); unset fields are etcd's zero values. */
export function watchResponse(
  header: ResponseHeader,
  watchId: number,
  fields: Partial<Pick<WatchResponse, 'created' | 'canceled' | 'compactRevision' | 'cancelReason' | 'events'>>,
): WatchResponse {
  return {
    header,
    watchId,
    created: fields.created ?? false,
    canceled: fields.canceled ?? false,
    compactRevision: fields.compactRevision ?? 0,
    cancelReason: fields.cancelReason ?? '',
    fragment: false,
    events: fields.events ?? [],
  }
}

/** etcd's answer to a refused create: `created` and `canceled` at once, under watch ID -1. */
export function refusalResponse(header: ResponseHeader, refusal: WatchRefusal): WatchResponse {
  return watchResponse(header, -1, { created: true, canceled: true, cancelReason: refusal.message })
}
