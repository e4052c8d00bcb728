import type { Watch, WatchCreateRequest, WatchResponse, WatchStream } from '../../backend.js'
import { ServerWatchStream, type WatchRange, type WatchRefusal, type WatchStreamBackend } from '../../watch-stream.js'
import type { Replica } from './replica.js'

/**
 * etcd's Watch service in remote mode with a replica: a watch of kept keys from now, or from a revision
 * the replica holds, is served by the replica's watch hub (any number of them on the replica's one
 * upstream watch); one of other keys, or from further back, is forwarded to etcd. Both kinds share the client's stream and its watch IDs.
 */
export class ReplicaWatch implements Watch, WatchStreamBackend<object> {
  /** the watches the hub serves; every other one is etcd's */
  private readonly local = new WeakSet<object>()

  constructor(
    private readonly replica: Replica,
    private readonly hub: WatchStreamBackend<object>,
    private readonly remote: WatchStreamBackend<object>,
  ) {}

  open(onResponse: (resp: WatchResponse) => void): WatchStream {
    return new ServerWatchStream(this, onResponse)
  }

  start(stream: ServerWatchStream<object>, id: number, range: WatchRange, req: WatchCreateRequest): object {
    if (!this.replica.serves(range.key, range.end) || !this.fromReplica(req.startRevision)) return this.remote.start(stream, id, range, req)
    const watch = this.hub.start(stream, id, range, req)
    this.local.add(watch)
    return watch
  }

  refuse(stream: ServerWatchStream<object>, req: WatchCreateRequest, refusal: WatchRefusal): void {
    this.owner(this.replica.answersLocally()).refuse(stream, req, refusal)
  }

  cancel(stream: ServerWatchStream<object>, id: number, watch: object): void {
    this.owner(this.local.has(watch)).cancel(stream, id, watch)
  }

  progress(stream: ServerWatchStream<object>): void {
    this.owner(this.replica.answersLocally()).progress(stream)
  }

  release(stream: ServerWatchStream<object>, watches: readonly object[]): void {
    this.hub.release(stream, watches.filter((w) => this.local.has(w)))
    this.remote.release(stream, watches.filter((w) => !this.local.has(w)))
  }

  /**
   * From now, from a revision the replica holds, or from one etcd compacted after the replica's load (the
   * hub cancels it with etcd's compaction revision); etcd serves the revisions before the replica's load.
   */
  private fromReplica(startRevision: number): boolean {
    const { watchFrom, etcdCompactRev } = this.replica.store
    if (!this.replica.answersLocally()) return false
    return startRevision === 0 || startRevision >= watchFrom || (startRevision < etcdCompactRev && etcdCompactRev === watchFrom)
  }

  private owner(local: boolean): WatchStreamBackend<object> {
    return local ? this.hub : this.remote
  }
}
