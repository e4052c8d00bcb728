import type { Watch, WatchCreateRequest, WatchResponse, WatchStream } from '../../backend.js'
import { ServerWatchStream, type WatchRange, type WatchRefusal, type WatchStreamBackend } from '../../watch-stream.js'
import type { Replica } from './replica.js'

/** The replica's watch hub, which tells when a stream's watches have caught up (WatchHub). */
export interface ReplicaHub extends WatchStreamBackend<object> {
  whenSynced(stream: ServerWatchStream<object>, then: (rev: number) => void): void
}

/** The watches forwarded to etcd, whose progress answers can be taken before they reach the client (RemoteWatch). */
export interface EtcdWatches extends WatchStreamBackend<object> {
  requestProgress(stream: ServerWatchStream<object>, answer: (resp: WatchResponse) => void): void
}

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
    private readonly hub: ReplicaHub,
    private readonly remote: EtcdWatches,
    /** The longest a progress answer waits for the replica to reach etcd's revision before it is asked again. */
    private readonly waitMs: number,
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

  /**
   * A stream whose watches are all on one side is answered by that side. One with watches on both gets
   * etcd's answer once the replica's watches have sent every event up to its revision too; it is asked
   * again when the client has meanwhile been told of a later revision (etcd's answer would take it back).
   */
  progress(stream: ServerWatchStream<object>): void {
    const { local, remote } = this.sides(stream)
    if (local && remote) return this.remote.requestProgress(stream, (answer) => void this.answerBoth(stream, answer))
    this.owner(remote ? false : local || this.replica.answersLocally()).progress(stream)
  }

  release(stream: ServerWatchStream<object>, watches: readonly object[]): void {
    this.hub.release(stream, watches.filter((w) => this.local.has(w)))
    this.remote.release(stream, watches.filter((w) => !this.local.has(w)))
  }

  private async answerBoth(stream: ServerWatchStream<object>, answer: WatchResponse): Promise<void> {
    const rev = answer.header.revision
    const caughtUp = await this.replica.caughtUpTo(rev, this.waitMs)
    if (caughtUp) await new Promise<number>((resolve) => this.hub.whenSynced(stream, resolve))
    if (caughtUp && stream.revisionTold <= rev) stream.deliver(answer)
    else if (!stream.isClosed) this.progress(stream)
  }

  /** Whether the stream has live watches on the replica, and any watches on etcd (being created included). */
  private sides(stream: ServerWatchStream<object>): { local: boolean; remote: boolean } {
    let local = false
    let remote = false
    for (const [id, watch] of stream.watchesById) {
      if (!this.local.has(watch)) remote = true
      else if (stream.liveWatchIds.has(id)) local = true
    }
    return { local, remote }
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
