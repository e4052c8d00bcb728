/**
 * Buffers of one size for a stream's pages, each reused once its writer and every consumer holding a
 * view of it have let it go. A snapshot of 1M keys writes ~344 MB of pages: as new buffers, V8 counts
 * them as external memory and marks its whole heap several times per snapshot to free them; reused,
 * the stream runs on a few megabytes. A buffer nobody lets go is left to the garbage collector as before.
 */
export class ReusedBuffers {
  /** Per buffer taken here and not yet let go by all: the buffer and how many hold it. */
  private readonly held = new Map<ArrayBufferLike, { buffer: Buffer; holds: number }>()
  private readonly free: Buffer[] = []

  constructor(
    readonly size: number,
    /** Buffers kept for reuse at most; more let go at once are left to the garbage collector. */
    readonly keep: number,
  ) {}

  /** A zeroed buffer of `size` bytes (of `bytes` when more, not reused), held once by the caller. */
  take(bytes: number): Buffer {
    if (bytes > this.size) return Buffer.alloc(bytes)
    const buffer = this.free.pop()?.fill(0) ?? Buffer.alloc(this.size)
    this.held.set(buffer.buffer, { buffer, holds: 1 })
    return buffer
  }

  /** One more hold on the buffer `view` is a view of (none for a buffer not taken here). */
  hold(view: Uint8Array): void {
    const entry = this.held.get(view.buffer)
    if (entry) entry.holds++
  }

  /** Lets go of one hold on the buffer `view` is a view of; once none is left, the buffer may be taken again. */
  release(view: Uint8Array): void {
    const entry = this.held.get(view.buffer)
    if (!entry || --entry.holds > 0) return
    this.held.delete(view.buffer)
    if (this.free.length < this.keep) this.free.push(entry.buffer)
  }
}
