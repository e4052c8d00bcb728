import type { RunningServer } from '../helpers/managed-server.js'

/**
 * Fresh servers on demand: keeps `spare` instances starting in the background so a case rarely
 * waits for a start-up. Every instance is handed out once; the taker stops it.
 */
export class ServerPool {
  private readonly starting: Promise<RunningServer>[] = []

  constructor(
    private readonly start: () => Promise<RunningServer>,
    private readonly spare: number,
  ) {}

  take(): Promise<RunningServer> {
    this.fill()
    const next = this.starting.shift()!
    this.fill()
    return next
  }

  /** Stop the spares that were never taken. */
  async drain(): Promise<void> {
    const spares = this.starting.splice(0)
    await Promise.all(spares.map((p) => p.then((s) => s.stop(), () => undefined)))
  }

  private fill(): void {
    while (this.starting.length < this.spare) {
      const next = this.start()
      // A failed start surfaces when taken; until then it must not count as unhandled.
      next.catch(() => undefined)
      this.starting.push(next)
    }
  }
}
