/**
 * The logged batches lmdb does not hold yet (see StoreFile): handed to it all together, in one transaction,
 * at most every STORE_EVERY_MS (each lmdb commit costs two flushes), or at once when someone waits for
 * them or MAX_UNSTORED_BYTES of them wait. A failure leaves them waiting, asked again with backoff.
 */

/** Logged batches go to lmdb at most this often. */
const STORE_EVERY_MS = 20
/** Bytes of waiting batches past which lmdb takes them at once (and more are logged only after). */
const MAX_UNSTORED_BYTES = 32 << 20
/** After lmdb failed to take them, the first wait before it is asked again (doubling up to a second). */
const STORE_RETRY_MS = 50
const MAX_RETRY_MS = 1000

export interface UnstoredBatch {
  /** Its number in the log. */
  seq: number
  /** Bytes of its log record. */
  bytes: number
}

/** lmdb, as the waiting batches are handed to it. */
export interface BatchTaker<B> {
  /** Writes `batches` in one lmdb transaction; resolves once it is durable. */
  take(batches: B[]): Promise<void>
  /** lmdb holds `batches` now. */
  taken(batches: B[]): void
  /** lmdb failed to take `batches`: whether what it holds is no longer known (then it is not asked again). */
  failed(batches: B[], err: Error): boolean
}

export class UnstoredBatches<B extends UnstoredBatch> {
  private waiting: B[] = []
  /** Bytes of the records of the batches not handed to lmdb yet. */
  private waitingBytes = 0
  /** Bytes of the records of the batches lmdb is taking now (its file may have grown by them already). */
  private takingBytes = 0
  private storing = false
  private storedAt = 0
  private timer: NodeJS.Timeout | undefined
  private retryMs = STORE_RETRY_MS
  private waiters: Array<{ seq: number; resolve: () => void; reject: (err: Error) => void }> = []
  private closed = false
  /** Why lmdb last failed to take them (cleared when it takes them). */
  failure: Error | undefined
  /** Set when what lmdb holds is no longer known: nothing more is handed to it. */
  broken: Error | undefined

  constructor(
    /** The number of the last batch lmdb holds. */
    private heldSeq: number,
    private readonly taker: BatchTaker<B>,
  ) {}

  /** A batch logged after those added before it. */
  add(batch: B): void {
    this.waiting.push(batch)
    this.waitingBytes += batch.bytes
    this.schedule()
  }

  /** Bytes of the records of the batches lmdb is taking now (its file may have grown by them already). */
  get taking(): number {
    return this.takingBytes
  }

  /** Bytes of the records of the batches not handed to lmdb yet. */
  get waitingToTake(): number {
    return this.waitingBytes
  }

  /** Whether lmdb should take what waits before more is logged: it failed last time, or too much waits. */
  get mustCatchUp(): boolean {
    return this.failure !== undefined || this.takingBytes + this.waitingBytes > MAX_UNSTORED_BYTES
  }

  /**
   * Resolves once lmdb holds every batch up to `seq`; rejects with the reason when lmdb fails to take them
   * (or has failed and fails again).
   */
  held(seq: number): Promise<void> {
    if (this.broken) return Promise.reject(this.broken)
    if (this.heldSeq >= seq) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject })
      this.schedule()
    })
  }

  /** Nothing more is handed to lmdb (wait for held() first). */
  close(): void {
    this.closed = true
    clearTimeout(this.timer)
  }

  /** Hands the waiting batches to lmdb when due: STORE_EVERY_MS after the last time, or now when waited for. */
  private schedule(): void {
    if (this.storing || this.closed || this.broken || this.waiting.length === 0) return
    const now = this.waiters.length > 0 || this.waitingBytes > MAX_UNSTORED_BYTES
    const wait = now ? 0 : this.storedAt + (this.failure ? this.retryMs : STORE_EVERY_MS) - performance.now()
    if (wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined
        this.schedule()
      }, wait)
      return
    }
    clearTimeout(this.timer)
    this.timer = undefined
    void this.store()
  }

  private async store(): Promise<void> {
    this.storing = true
    const batches = this.waiting.splice(0)
    this.takingBytes = this.waitingBytes
    this.waitingBytes = 0
    let failure: Error | undefined
    try {
      await this.taker.take(batches)
    } catch (err) {
      failure = err as Error
    }
    this.storing = false
    this.storedAt = performance.now()
    const handedBytes = this.takingBytes
    this.takingBytes = 0
    if (failure) {
      this.waiting.unshift(...batches)
      this.waitingBytes += handedBytes
      if (this.taker.failed(batches, failure)) this.broken = failure
      if (this.failure) this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS)
      this.failure = failure
      for (const waiter of this.waiters.splice(0)) waiter.reject(failure)
    } else {
      this.failure = undefined
      this.retryMs = STORE_RETRY_MS
      this.heldSeq = batches.at(-1)!.seq
      this.taker.taken(batches)
      const waiters = this.waiters
      this.waiters = waiters.filter((waiter) => waiter.seq > this.heldSeq)
      for (const waiter of waiters) if (waiter.seq <= this.heldSeq) waiter.resolve()
    }
    this.schedule()
  }
}
