/**
 * The remote backend's watch-fed replica: loads the keyspace (or the kept prefixes of it) at one
 * revision with paged ranges, then follows one upstream watch from the next revision, and starts over from scratch when it can no longer
 * follow (Kubernetes' watch cache, KEP-2340, on the embedded store's MVCC parts).
 */
import type * as grpc from '@grpc/grpc-js'
import { EventType, type ResponseHeader } from '../../backend.js'
import { Errors, EtcdError } from '../../../errors.js'
import { encodedLength, type StoredChange } from '../../embedded/kv-codec.js'
import * as convert from '../convert.js'
import { sleep, type EndpointPool } from '../endpoint-pool.js'
import type { Member } from '../member.js'
import type { PbEvent, PbRangeResponse, PbWatchRequest, PbWatchResponse } from '../messages.js'
import { KeptKeys, type KeptSpan } from './kept-keys.js'
import { QuorumRead } from './quorum-read.js'
import { ReplicaStore, rowCost } from './replica-store.js'

export interface ReplicaOptions {
  /** The replica refuses to load a keyspace whose estimated memory is above this. */
  maxBytes: number
  /** How often etcd is asked whether it compacted past what the replica holds. */
  compactionProbeMs: number
  /** Keys per range request while loading. */
  pageSize?: number
  /**
   * While false, every request goes to etcd (etcd has auth enabled, or cannot say: only etcd can check a
   * user's rights), and the replica does not load: it loads once this is true.
   */
  answersWhile?: () => boolean
  /** Keep only the keys under these prefixes (default: every key); requests touching others go to etcd. */
  prefixes?: readonly Buffer[]
}

/** `\0` as key and range end: every key. */
const EVERY_KEY = Buffer.from([0])
const MAIN_WATCH = 1
/** A key no one writes: the compaction probe watches it, only to hear etcd's compaction revision. */
const PROBE_KEY = Buffer.from('\0etcdgw/replica-compaction-probe')
/**
 * Keys a page of the load asks for. etcd counts every key from a page's start to the span's end for each
 * page, so the load costs etcd pages × keys: 5,000 keys a page took 12.7 s for 600,000 keys and over 30 s
 * for 1,000,000. A page of 20,000 (~6 MB at 256-byte values) is decoded in a few tens of milliseconds.
 */
const DEFAULT_PAGE_SIZE = 20_000
const MAX_BACKOFF_MS = 1_000

interface Waiter {
  rev: number
  resolve(caughtUp: boolean): void
  timer: NodeJS.Timeout
  /** a read gives up at a resync (it asks etcd instead); a write's answer keeps waiting */
  read: boolean
}

interface Upstream {
  readonly member: Member
  readonly stream: grpc.ClientDuplexStream<PbWatchRequest, PbWatchResponse>
}

export class Replica {
  readonly store = new ReplicaStore()
  private readonly kept: KeptKeys
  /** The store holds a loaded keyspace that the watch follows. */
  private loaded = false
  private upstream: Upstream | undefined
  private clusterId = 0n
  /** cluster, member and term of the member the watch is on: the header of local answers */
  private base: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0, raftTerm: 0 }
  private waiters: Waiter[] = []
  /** the last change applied, to check after a reconnect that etcd still has the same history */
  private last: StoredChange | undefined
  /** a compaction of etcd's above what the replica has applied, done once it gets there */
  private pendingCompaction = -1
  private probeId = MAIN_WATCH
  private readonly probeTimer: NodeJS.Timeout
  private readonly resyncListeners = new Set<(firstMissing: number) => void>()
  private readonly progressListeners = new Set<() => void>()
  private resyncing: Promise<void> | undefined
  private closed = false
  private readonly quorum: QuorumRead

  private constructor(
    private readonly pool: EndpointPool,
    private readonly opts: ReplicaOptions,
  ) {
    this.kept = new KeptKeys(opts.prefixes)
    this.quorum = new QuorumRead(pool, () => this.store.committedRev)
    this.probeTimer = setInterval(() => this.probeCompaction(), opts.compactionProbeMs)
    this.probeTimer.unref()
  }

  /**
   * Loads the keyspace and starts following it; rejects when it would not fit in `maxBytes`. When etcd
   * cannot answer yet (no leader, unreachable) or the replica may not answer yet (answersWhile), the load
   * goes on in the background and requests go to etcd meanwhile.
   */
  static async open(pool: EndpointPool, opts: ReplicaOptions): Promise<Replica> {
    const replica = new Replica(pool, opts)
    if (!replica.allowed()) {
      replica.resyncing = replica.reload().finally(() => (replica.resyncing = undefined))
      return replica
    }
    try {
      await replica.load()
      replica.follow()
    } catch (err) {
      if (isTooLarge(err)) {
        replica.close()
        throw err
      }
      replica.resyncing = replica.reload().finally(() => (replica.resyncing = undefined))
    }
    return replica
  }

  /**
   * Whether a request without a token may be answered from the replica (requests with one never reach
   * it: see openRemoteBackend's `as`): not while it loads, nor while etcd has auth enabled.
   */
  answersLocally(): boolean {
    return this.loaded && !this.closed && this.allowed()
  }

  /**
   * Whether a request over `key` to `end` (undefined: the key alone; empty: every key from it on) may be
   * answered from the replica: it answers locally, and keeps every key of the range.
   */
  serves(key: Buffer, end: Buffer | undefined): boolean {
    return this.answersLocally() && this.kept.covers(key, end)
  }

  /** The header of an answer from the replica at `revision`. */
  header(revision: number): ResponseHeader {
    return { ...this.base, revision }
  }

  /** Called when a resync starts, with the first revision the replica may not deliver any more. */
  onResync(listener: (firstMissing: number) => void): void {
    this.resyncListeners.add(listener)
  }

  /** Called at each of etcd's progress notifications on the upstream watch (etcd's notify interval). */
  onProgressNotify(listener: () => void): void {
    this.progressListeners.add(listener)
  }

  /**
   * Waits until the replica holds every revision a linearizable read must see: the cluster's revision
   * from a quorum read sent after this call. False when the replica cannot tell in time (then ask etcd).
   */
  async caughtUpForRead(timeoutMs: number): Promise<boolean> {
    if (!this.upstream || !this.answersLocally()) return false
    const seen = await this.quorum.read()
    if (seen.clusterId !== this.clusterId || seen.revision < seen.appliedBefore) {
      // etcd answers for another cluster, or has lost revisions the replica had: a restore
      this.resync()
      return false
    }
    return this.caughtUpTo(seen.revision, timeoutMs)
  }

  /**
   * Waits until the replica has applied `rev` (a write's revision), at most `timeoutMs`; not at all while
   * it answers nothing because etcd has auth enabled (every read goes to etcd then).
   */
  caughtUpForWrite(rev: number, timeoutMs: number): Promise<boolean> {
    if (!this.allowed()) return Promise.resolve(false)
    return this.applied(rev, timeoutMs, false)
  }

  /**
   * Waits until the replica has applied `rev`, at most `timeoutMs`; false also when it starts over or
   * loses its upstream watch meanwhile, as for a read.
   */
  caughtUpTo(rev: number, timeoutMs: number): Promise<boolean> {
    return this.applied(rev, timeoutMs, true)
  }

  /** Follows a compaction of etcd's (made through this gateway or seen by the probe). */
  followCompaction(rev: number): void {
    if (rev <= this.store.etcdCompactRev || !this.loaded) return
    if (rev <= this.store.committedRev) this.store.compact(rev)
    else this.pendingCompaction = Math.max(this.pendingCompaction, rev)
  }

  close(): void {
    this.closed = true
    clearInterval(this.probeTimer)
    this.upstream?.stream.cancel()
    this.upstream = undefined
    for (const w of this.waiters.splice(0)) this.settle(w, false)
  }

  /** Whether requests without a token may be answered here (answersWhile). */
  private allowed(): boolean {
    return this.opts.answersWhile?.() ?? true
  }

  private applied(rev: number, timeoutMs: number, read: boolean): Promise<boolean> {
    if (this.loaded && this.store.committedRev >= rev) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter: Waiter = { rev, resolve, read, timer: setTimeout(() => this.settle(waiter, false), timeoutMs) }
      this.waiters.push(waiter)
    })
  }

  private settle(waiter: Waiter, caughtUp: boolean): void {
    clearTimeout(waiter.timer)
    const at = this.waiters.indexOf(waiter)
    if (at !== -1) this.waiters.splice(at, 1)
    waiter.resolve(caughtUp)
  }

  private wakeWaiters(): void {
    if (this.waiters.length === 0) return
    const rev = this.store.committedRev
    for (const w of this.waiters.filter((w) => w.rev <= rev)) this.settle(w, true)
  }

  /**
   * Paged ranges of each kept span at one revision: the first page fixes the revision (a linearizable
   * read), and the first pages of all spans estimate the memory before anything is loaded.
   */
  private async load(): Promise<void> {
    const pageSize = this.opts.pageSize ?? DEFAULT_PAGE_SIZE
    const page = (span: KeptSpan, key: Buffer, revision: number) =>
      this.pool.call<PbRangeResponse>('KV', 'Range', { key, range_end: span.rangeEnd, limit: pageSize, revision }, 'read')
    const [first, ...others] = this.kept.spans
    const firstPage = await page(first!, first!.key, 0)
    const header = convert.header(firstPage.header)
    const firstPages = [firstPage, ...(await Promise.all(others.map((span) => page(span, span.key, header.revision))))]
    const total = firstPages.reduce((n, res) => n + Number(res.count), 0)
    // the first pages' keys stand for the rest until they are loaded
    const firstKvs = firstPages.flatMap((res) => res.kvs)
    const firstBytes = firstKvs.reduce((n, kv) => n + rowCost(kv.key.length, encodedLength(kv)), 0)
    this.refuseAbove(total, firstKvs.length > 0 ? (firstBytes / firstKvs.length) * total : 0)
    this.store.reset(header.revision)
    this.clusterId = header.clusterId
    this.base = header
    this.last = undefined
    this.pendingCompaction = -1
    for (const [i, span] of this.kept.spans.entries()) {
      let res = firstPages[i]!
      for (;;) {
        // the next page is asked for before this one is applied: etcd finds it while this process indexes this one
        const next = res.more && res.kvs.length > 0 ? page(span, Buffer.concat([res.kvs[res.kvs.length - 1]!.key, EVERY_KEY]), header.revision) : undefined
        // (a failure surfaces when it is awaited; until then it must not count as unhandled)
        next?.catch(() => undefined)
        for (const kv of res.kvs) this.store.load(convert.keyValue(kv))
        this.refuseAbove(total, this.store.bytes)
        if (!next) break
        res = await next
      }
    }
    this.loaded = true
    this.wakeWaiters()
  }

  private refuseAbove(keys: number, estimate: number): void {
    if (estimate > this.opts.maxBytes) throw Errors.replicaTooLarge(keys, Math.round(estimate), this.opts.maxBytes)
  }

  /**
   * Opens the upstream watch from the revision after the last one applied. It covers every key, also
   * when the replica keeps only some prefixes: every revision then reaches the replica, which is how it
   * knows it holds the cluster's revision (etcd 3.4 answers a progress request with its current revision
   * before the events its watches still have to send, so that answer cannot tell it).
   */
  private follow(): void {
    if (this.closed) return
    const { member, stream } = this.pool.duplex<PbWatchRequest, PbWatchResponse>('Watch', 'Watch')
    const up: Upstream = { member, stream }
    this.upstream = up
    stream.on('data', (res: PbWatchResponse) => this.receive(up, res))
    stream.on('error', (err: Error) => void this.broken(up, err))
    stream.on('end', () => void this.broken(up, Errors.transportClosing()))
    stream.write({
      create_request: {
        key: EVERY_KEY,
        range_end: EVERY_KEY,
        start_revision: this.store.committedRev + 1,
        progress_notify: true,
        filters: [],
        prev_kv: false,
        watch_id: MAIN_WATCH,
        fragment: false,
      },
    })
  }

  private receive(up: Upstream, res: PbWatchResponse): void {
    if (this.upstream !== up) return
    const header = convert.header(res.header)
    if (header.clusterId !== 0n && header.clusterId !== this.clusterId) return this.resync()
    if (header.memberId !== 0n) this.base = { ...header, revision: 0 }
    const id = Number(res.watch_id)
    if (id !== MAIN_WATCH) {
      // the compaction probe: etcd cancels it with its compaction revision when that is above ours
      if (res.canceled && Number(res.compact_revision) > 0) this.followCompaction(Number(res.compact_revision))
      return
    }
    // the watch itself canceled: compacted past the replica (or refused): start over
    if (res.canceled) return this.resync()
    if (res.events.length > 0) this.applyEvents(res.events)
    else if (!res.created) for (const l of this.progressListeners) l()
  }

  /**
   * Applies whole revisions (etcd never splits one across responses of a watch without `fragment`). A
   * revision whose changes are all outside the kept keys is applied empty: the replica's revision is
   * the cluster's either way.
   */
  private applyEvents(events: readonly PbEvent[]): void {
    let rev = 0
    let changes: StoredChange[] = []
    const flush = () => {
      if (rev === 0) return
      this.store.apply(rev, changes)
      if (changes.length > 0) this.last = changes[changes.length - 1]
      changes = []
    }
    for (const e of events) {
      const modRevision = Number(e.kv!.mod_revision)
      if (modRevision <= this.store.committedRev) continue
      if (modRevision !== rev) {
        flush()
        rev = modRevision
      }
      if (this.kept.holds(e.kv!.key)) changes.push({ kv: convert.keyValue(e.kv!), tombstone: e.type === EventType.DELETE })
    }
    flush()
    if (this.pendingCompaction !== -1 && this.pendingCompaction <= this.store.committedRev) {
      this.store.compact(this.pendingCompaction)
      this.pendingCompaction = -1
    }
    this.wakeWaiters()
  }

  /** A watch on a key no one writes, from the oldest revision the replica answers at. */
  private probeCompaction(): void {
    const up = this.upstream
    if (!up || !this.loaded) return
    if (this.probeId !== MAIN_WATCH) up.stream.write({ cancel_request: { watch_id: this.probeId } })
    this.probeId = this.probeId + 1
    up.stream.write({
      create_request: {
        key: PROBE_KEY,
        start_revision: this.store.readFrom,
        progress_notify: false,
        filters: [],
        prev_kv: false,
        watch_id: this.probeId,
        fragment: false,
      },
    })
  }

  private async broken(up: Upstream, err: unknown): Promise<void> {
    if (this.upstream !== up) return
    this.upstream = undefined
    up.stream.cancel()
    this.pool.reportFailure(up.member, err)
    this.probeId = MAIN_WATCH
    for (const w of this.waiters.filter((w) => w.read)) this.settle(w, false)
    for (let backoff = 50; ; backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)) {
      await sleep(backoff)
      // closed, or a resync (which follows on its own) took over
      if (this.closed || !this.loaded) return
      // a member restored from a snapshot may have other history at the same revisions
      const same = await this.sameHistory().catch(() => undefined)
      if (this.closed || !this.loaded) return
      if (same === false) return this.resync()
      if (same) return this.follow()
    }
  }

  /**
   * Whether etcd still has the change the replica applied last, at its revision: false after a
   * restore (or compaction) took the cluster's history elsewhere; rejects while etcd cannot answer.
   */
  private async sameHistory(): Promise<boolean> {
    const last = this.last
    const rev = this.store.committedRev
    let res: PbRangeResponse
    try {
      res = await this.pool.call<PbRangeResponse>('KV', 'Range', { key: last?.kv.key ?? EVERY_KEY, revision: rev, limit: 1 }, 'read')
    } catch (err) {
      if (err instanceof EtcdError && (err.code === Errors.compacted.code || err.code === Errors.futureRev.code)) return false
      throw err
    }
    if (convert.header(res.header).clusterId !== this.clusterId) return false
    if (!last) return true
    const kv = res.kvs[0]
    if (last.tombstone) return kv === undefined
    return kv !== undefined && Number(kv.mod_revision) === last.kv.modRevision && kv.value.equals(last.kv.value)
  }

  /** Starts over from a fresh load; meanwhile every request goes to etcd. */
  private resync(): void {
    if (this.resyncing || this.closed) return
    const firstMissing = this.store.committedRev + 1
    this.loaded = false
    this.upstream?.stream.cancel()
    this.upstream = undefined
    for (const w of this.waiters.filter((w) => w.read)) this.settle(w, false)
    for (const l of this.resyncListeners) l(firstMissing)
    this.resyncing = this.reload().finally(() => (this.resyncing = undefined))
  }

  /** Loads once the replica may answer, and retries until the load succeeds. */
  private async reload(): Promise<void> {
    for (let backoff = 50; !this.closed; backoff = Math.min(MAX_BACKOFF_MS, backoff * 2)) {
      if (!this.allowed()) {
        await sleep(backoff)
        continue
      }
      try {
        await this.load()
        this.follow()
        return
      } catch (err) {
        // too large now: stay off (every request goes to etcd) rather than use the memory
        if (isTooLarge(err)) return
        await sleep(backoff)
      }
    }
  }
}

const isTooLarge = (err: unknown): boolean => err instanceof EtcdError && err.code === Errors.replicaTooLarge.code
