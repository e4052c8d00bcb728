/**
 * The read transactions open on each lmdb environment (snapshot streams), so that a defragment closes
 * the environment it replaced only after its last reader is done: closing it under an open
 * transaction would end that stream half way (etcd's defrag likewise waits for bbolt's readers).
 */
export class ReadPins<Env extends object> {
  private readonly open = new Map<Env, { count: number; idle: Promise<void>; resolve: () => void }>()
  private total = 0

  /** Read transactions open, on every environment. */
  get count(): number {
    return this.total
  }

  /** Counts one more reader of `env`; returns its release (safe to call twice). */
  pin(env: Env): () => void {
    let entry = this.open.get(env)
    if (!entry) {
      let resolve!: () => void
      const idle = new Promise<void>((r) => (resolve = r))
      this.open.set(env, (entry = { count: 0, idle, resolve }))
    }
    entry.count++
    this.total++
    let released = false
    return () => {
      if (released) return
      released = true
      this.total--
      if (--entry.count === 0) {
        this.open.delete(env)
        entry.resolve()
      }
    }
  }

  /** Resolves once `env` has no reader; undefined when it has none now. */
  idle(env: Env): Promise<void> | undefined {
    return this.open.get(env)?.idle
  }
}
