/**
 * Work that yields between its steps, done one holder at a time: who asks while another holds waits
 * its turn, first come first served, and gets it on a later turn of the event loop, after the I/O that
 * arrived meanwhile. However many callers there are, other clients wait at most one step between two
 * of theirs, not one step of each caller.
 */
export class TurnTaking {
  private busy = false
  private readonly waiting: (() => void)[] = []

  /** Runs `work` once every earlier caller's work is over. */
  async take<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.busy = true
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      // the turn passes on still taken, so no newcomer slips in before the next in line
      if (next) setImmediate(next)
      else this.busy = false
    }
  }

  /** The steps of `steps`, each taken in a turn of its own: the next asked for only when the previous is taken. */
  async *each<T>(steps: AsyncIterator<T>): AsyncGenerator<T> {
    for (;;) {
      const step = await this.take(() => steps.next())
      if (step.done) return
      yield step.value
    }
  }
}
