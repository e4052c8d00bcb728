import {
  EventType,
  WatchFilter,
  type Event,
  type KeyValue,
  type ResponseHeader,
  type Watch,
  type WatchCreateRequest,
  type WatchResponse,
  type WatchStream,
} from '../backend.js'
import { refusalResponse, ServerWatchStream, watchResponse as response, type WatchRange, type WatchRefusal, type WatchStreamBackend } from '../watch-stream.js'
import type { StoredChange } from './kv-codec.js'
import type { Revision } from './revision.js'
import type { WatchableStore } from './views.js'
import { fragments } from './watch-fragments.js'
import { rangeHistory, type IndexedHistory } from './watch-history.js'

/** etcd sends at most this many revisions of history in one watch response (watchBatchMaxRevs). */
const MAX_REVS_PER_BATCH = 1000
/** Rows of history one catch-up step reads, over all unsynced watchers, before it yields to other work. */
const SYNC_ROWS_PER_STEP = 2000

interface Watcher {
  readonly id: number
  readonly stream: ServerWatchStream<Watcher>
  /** latin1 key; `end` undefined = this key only, '' = every key >= key, else [key, end) */
  readonly key: string
  readonly end: string | undefined
  readonly noPut: boolean
  readonly noDelete: boolean
  readonly prevKv: boolean
  readonly progressNotify: boolean
  /** split responses over the size limit, as etcd does when the create request asked for it */
  readonly fragment: boolean
  /** the first revision this watcher still has to see */
  minRev: number
  /** whether events went out since the last progress tick */
  active: boolean
  /** a range watcher's history being gathered from the key index while it catches up */
  history?: IndexedHistory | undefined
}

export interface WatchHubOptions {
  header: (revision: number) => ResponseHeader
  /** etcd's --experimental-watch-progress-notify-interval. */
  progressNotifyIntervalMs: number
  /** Protobuf size from which etcd fragments a watch response: --max-request-bytes + gRPC's 512 KiB. */
  maxResponseBytes: number
}

/**
 * etcd's watchable store and v3rpc watch stream for the embedded backend. A watcher that starts in the
 * past is "unsynced": it catches up from the history in bounded steps that yield to other work (etcd's
 * unsynced watcher group), then joins the synced ones, to which the store's commit listener delivers
 * each new revision in order.
 */
export class WatchHub implements Watch, WatchStreamBackend<Watcher> {
  /** single-key watchers by key */
  private readonly byKey = new Map<string, Set<Watcher>>()
  /** range watchers */
  private readonly ranged = new Set<Watcher>()
  private readonly progressWatchers = new Set<Watcher>()
  /** watchers still replaying history, in the order they get their next step */
  private readonly unsynced = new Set<Watcher>()
  private syncStep: NodeJS.Immediate | undefined
  /** callers waiting for a stream's watchers to finish catching up (see whenSynced) */
  private readonly awaitingSync = new Map<ServerWatchStream<Watcher>, Array<(rev: number) => void>>()
  /** streams open, for etcd's watch stream gauge */
  private readonly streams = new Set<ServerWatchStream<Watcher>>()
  /** watchers started and not yet canceled or released (compacted ones too, as etcd counts them) */
  private watcherCount = 0
  /** events sent, after each watcher's filters */
  private eventsSent = 0
  private readonly timer: NodeJS.Timeout
  private readonly stopListening: () => void

  constructor(
    private readonly store: WatchableStore,
    private readonly opts: WatchHubOptions,
  ) {
    this.stopListening = store.onCommit((rev, changes) => this.notify(rev, changes))
    this.timer = setInterval(() => this.progressTick(), opts.progressNotifyIntervalMs)
    this.timer.unref()
  }

  open(onResponse: (resp: WatchResponse) => void): WatchStream {
    const stream = new ServerWatchStream(this, onResponse)
    this.streams.add(stream)
    return stream
  }

  /**
   * etcd's watch gauges and event counter: streams and watchers open, watchers still catching up on
   * history (etcd's slow watchers: its unsynced ones; a client too slow to read is cut off by its
   * connection's send budget rather than kept as a victim), events sent.
   */
  get counts(): { streams: number; watchers: number; slowWatchers: number; eventsSent: number } {
    return { streams: this.streams.size, watchers: this.watcherCount, slowWatchers: this.unsynced.size, eventsSent: this.eventsSent }
  }

  close(): void {
    clearInterval(this.timer)
    clearImmediate(this.syncStep)
    this.stopListening()
  }

  start(stream: ServerWatchStream<Watcher>, id: number, range: WatchRange, req: WatchCreateRequest): Watcher {
    const currentRev = this.store.committedRev
    const w: Watcher = {
      id,
      stream,
      key: range.key.toString('latin1'),
      end: range.end?.toString('latin1'),
      noPut: req.filters.includes(WatchFilter.NOPUT),
      noDelete: req.filters.includes(WatchFilter.NODELETE),
      prevKv: req.prevKv,
      progressNotify: req.progressNotify,
      fragment: req.fragment,
      minRev: req.startRevision === 0 ? currentRev + 1 : req.startRevision,
      active: false,
    }
    this.watcherCount++
    stream.deliver(response(this.opts.header(currentRev), id, { created: true }))
    // a compacted watcher keeps its id on the stream (etcd answers a later cancel for it)
    this.add(w)
    return w
  }

  refuse(stream: ServerWatchStream<Watcher>, _req: WatchCreateRequest, refusal: WatchRefusal): void {
    stream.deliver(refusalResponse(this.opts.header(this.store.committedRev), refusal))
  }

  cancel(stream: ServerWatchStream<Watcher>, id: number, w: Watcher): void {
    stream.forget(id)
    this.watcherCount--
    this.remove(w)
    stream.deliver(response(this.opts.header(this.store.committedRev), id, { canceled: true }))
  }

  /**
   * etcd's answer to a progress request (since 3.4.25 and 3.5.8): the store's revision, once none of the
   * stream's watchers is still catching up, so that the client has every event up to it.
   */
  progress(stream: ServerWatchStream<Watcher>): void {
    this.whenSynced(stream, (rev) => stream.deliver(response(this.opts.header(rev), -1, {})))
  }

  /**
   * Calls `then` with the store's revision once none of `stream`'s watchers is catching up on history
   * (at once when none is): its watchers have then sent every event up to that revision.
   */
  whenSynced(stream: ServerWatchStream<Watcher>, then: (rev: number) => void): void {
    if (!this.catchingUp(stream)) return then(this.store.committedRev)
    const waiting = this.awaitingSync.get(stream)
    if (waiting) waiting.push(then)
    else this.awaitingSync.set(stream, [then])
  }

  release(stream: ServerWatchStream<Watcher>, watchers: readonly Watcher[]): void {
    this.streams.delete(stream)
    this.awaitingSync.delete(stream)
    this.watcherCount -= watchers.length
    for (const w of watchers) this.remove(w)
  }

  /**
   * The store lost the revisions after some watchers' next one (a replica reloaded from scratch): every
   * watcher ends as a compacted one does, telling its client the first revision it can ask for again.
   */
  cancelAll(compactRevision: number): void {
    const all = [...this.byKey.values()].flatMap((set) => [...set]).concat([...this.ranged], [...this.unsynced])
    for (const w of all) {
      this.remove(w)
      w.stream.deliver(response(this.opts.header(0), w.id, { canceled: true, compactRevision }))
    }
  }

  /** Registers a watcher; one that starts in the past catches up first; one compacted away is canceled. */
  private add(w: Watcher): void {
    if (w.minRev <= this.store.committedRev) {
      if (w.minRev < this.store.compactRev) {
        this.cancelCompacted(w)
        return
      }
      this.unsynced.add(w)
      this.syncStep ??= setImmediate(() => this.catchUpStep())
    } else {
      this.addSynced(w)
    }
    if (w.progressNotify) this.progressWatchers.add(w)
  }

  private remove(w: Watcher): void {
    if (w.end === undefined) {
      const set = this.byKey.get(w.key)
      set?.delete(w)
      if (set?.size === 0) this.byKey.delete(w.key)
    } else {
      this.ranged.delete(w)
    }
    if (this.unsynced.delete(w)) this.answerSynced()
    this.progressWatchers.delete(w)
  }

  private catchingUp(stream: ServerWatchStream<Watcher>): boolean {
    for (const w of this.unsynced) if (w.stream === stream) return true
    return false
  }

  /** Calls back whoever waits for a stream none of whose watchers is catching up any more. */
  private answerSynced(): void {
    for (const [stream, waiting] of this.awaitingSync) {
      if (this.catchingUp(stream)) continue
      this.awaitingSync.delete(stream)
      for (const then of waiting) then(this.store.committedRev)
    }
  }

  private addSynced(w: Watcher): void {
    if (w.end === undefined) {
      let set = this.byKey.get(w.key)
      if (!set) this.byKey.set(w.key, (set = new Set()))
      set.add(w)
    } else {
      this.ranged.add(w)
    }
  }

  /** etcd's answer to a watcher whose next revision was compacted away (it keeps its id on the stream). */
  private cancelCompacted(w: Watcher): void {
    w.stream.deliver(response(this.opts.header(0), w.id, { canceled: true, compactRevision: this.store.compactRev }))
  }

  /**
   * One bounded step of etcd's syncWatchers: each unsynced watcher in turn reads history until the step's
   * rows are used; one that reaches the committed revision joins the synced watchers in the same step, so
   * the next commit reaches it live. Another step follows after other work has had its turn.
   */
  private catchUpStep(): void {
    this.syncStep = undefined
    let budget = SYNC_ROWS_PER_STEP
    for (const w of [...this.unsynced]) {
      if (budget <= 0) break
      this.unsynced.delete(w)
      if (w.minRev < this.store.compactRev) {
        this.cancelCompacted(w)
        continue
      }
      // a range's history from the key index comes a window of revisions at a time
      do budget -= this.replay(w, budget)
      while (budget > 0 && w.minRev <= this.store.committedRev)
      if (w.minRev > this.store.committedRev) {
        w.history = undefined
        this.addSynced(w)
      } else {
        this.unsynced.add(w)
      }
    }
    if (this.unsynced.size > 0) this.syncStep = setImmediate(() => this.catchUpStep())
    this.answerSynced()
  }

  /**
   * Sends the watcher's history from its minRev on, stopping at a revision boundary once `budget` rows
   * are read (or their worth of keys visited in the key index), and moves minRev to where it stopped.
   * Returns the rows' worth spent.
   */
  private replay(w: Watcher, budget: number): number {
    let upTo = this.store.committedRev
    let rows: Iterable<{ rev: Revision; change: StoredChange }>
    let read = 0
    if (w.end === undefined) {
      // a single key's revisions come from the key index, so no other key's rows are read
      rows = this.rowsOf(this.store.index.revisions(w.key, w.minRev, upTo))
    } else {
      const history = this.rangeHistoryOf(w, upTo)
      if (history) {
        read = history.gather(budget)
        if (!history.gathered) return read
        upTo = history.upTo
        rows = this.rowsOf(history.after(w.minRev))
      } else {
        rows = this.store.history(w.minRev, upTo)
      }
    }
    let batch: Event[] = []
    let revs = 0
    let lastRev = 0
    let lastSent = 0
    let next = upTo + 1
    const flush = () => {
      this.send(w, upTo, batch)
      batch = []
      revs = 0
    }
    for (const { rev, change } of rows) {
      if (rev.main !== lastRev) {
        if (read >= budget) {
          next = rev.main
          break
        }
        lastRev = rev.main
      }
      read++
      if (!matches(w, change.kv.key.toString('latin1'))) continue
      if (rev.main !== lastSent) {
        if (revs === MAX_REVS_PER_BATCH) flush()
        revs++
        lastSent = rev.main
      }
      batch.push(toEvent(change))
    }
    if (batch.length > 0) flush()
    w.minRev = next
    return read
  }

  /**
   * The key-index history a range watcher goes on with, or a new one from its minRev; undefined when
   * reading the revisions table is the cheaper. One begun before a compaction is begun again: the
   * compaction may have removed rows it holds.
   */
  private rangeHistoryOf(w: Watcher, upTo: number): IndexedHistory | undefined {
    const h = w.history
    if (h && w.minRev <= h.upTo && h.compactRev === this.store.compactRev) return h
    return (w.history = rangeHistory(this.store, w.key, w.end!, w.minRev, upTo))
  }

  private *rowsOf(revisions: Iterable<Revision>): Generator<{ rev: Revision; change: StoredChange }> {
    for (const rev of revisions) yield { rev, change: this.store.readRow(rev) }
  }

  private notify(rev: number, changes: readonly StoredChange[]): void {
    // runs for every commit: with nobody watching, it costs nothing
    if (this.byKey.size === 0 && this.ranged.size === 0) return
    const perWatcher = new Map<Watcher, Event[]>()
    // watchers of one key see the same events: one array per key, so the wire encoding is shared too
    const byKeyEvents = new Map<string, Event[]>()
    changes.forEach((change) => {
      const key = change.kv.key.toString('latin1')
      const event = toEvent(change)
      const single = this.byKey.get(key)
      if (single) {
        let list = byKeyEvents.get(key)
        if (!list) {
          byKeyEvents.set(key, (list = []))
          for (const w of single) perWatcher.set(w, list)
        }
        list.push(event)
      }
      for (const w of this.ranged) if (matches(w, key)) addEvent(perWatcher, w, event)
    })
    if (perWatcher.size === 0) return
    const header = this.opts.header(rev)
    // a range watcher that saw the same keys shares their array as well
    const shared = new Map<string, Event[]>()
    if (this.ranged.size > 0) for (const list of byKeyEvents.values()) shared.set(keysOf(list), list)
    for (const [w, events] of perWatcher) {
      if (rev < w.minRev) continue
      w.minRev = rev + 1
      if (w.end === undefined) {
        this.send(w, rev, events, header)
        continue
      }
      const keys = keysOf(events)
      const same = shared.get(keys)
      this.send(w, rev, same ?? events, header)
      if (!same) shared.set(keys, events)
    }
  }

  /** Applies the watcher's filters and prev_kv, then delivers (nothing when every event was filtered). */
  private send(w: Watcher, rev: number, events: readonly Event[], header = this.opts.header(rev)): void {
    let out = events
    if (w.noPut || w.noDelete) {
      out = events.filter((e) => !(e.type === EventType.PUT ? w.noPut : w.noDelete))
      if (out.length === 0) return
    }
    if (w.prevKv) out = out.map((e) => ({ ...e, prevKv: this.previous(e.kv) }))
    w.active = true
    this.eventsSent += out.length
    const resp = response(header, w.id, { events: out })
    if (!w.fragment) return w.stream.deliver(resp)
    for (const part of fragments(resp, this.opts.maxResponseBytes)) w.stream.deliver(part)
  }

  /** The key's value just before this event (etcd reads it at mod_revision - 1; absent once compacted). */
  private previous(kv: KeyValue): KeyValue | undefined {
    try {
      return this.store.rangeKeys(kv.key, undefined, this.store.committedRev, { limit: 0, rev: kv.modRevision - 1, count: false })
        .kvs[0]
    } catch {
      return undefined
    }
  }

  /** etcd's progress notification round: each progress_notify watcher that had no events since the last one hears the revision. */
  progressTick(): void {
    const header = this.opts.header(this.store.committedRev)
    for (const w of this.progressWatchers) {
      // as etcd, only a synced watcher is told the store's revision
      if (!w.active && !this.unsynced.has(w)) w.stream.deliver(response(header, w.id, {}))
      w.active = false
    }
  }
}

function matches(w: Watcher, key: string): boolean {
  if (w.end === undefined) return key === w.key
  return key >= w.key && (w.end === '' || key < w.end)
}

function keysOf(events: readonly Event[]): string {
  return events.map((e) => e.kv.key.toString('latin1')).join('\0')
}

function addEvent(perWatcher: Map<Watcher, Event[]>, w: Watcher, e: Event): void {
  const list = perWatcher.get(w)
  if (list) list.push(e)
  else perWatcher.set(w, [e])
}

function toEvent(change: StoredChange): Event {
  if (!change.tombstone) return { type: EventType.PUT, kv: change.kv }
  const kv = change.kv
  return {
    type: EventType.DELETE,
    kv: { key: kv.key, modRevision: kv.modRevision, createRevision: 0, version: 0, value: kv.value, lease: 0n },
  }
}
