/**
 * When backups run: a cron expression (5 fields, or 6 with seconds; UTC), parsed by croner, or
 * `@every <duration>` as Go's cron libraries write intervals. The loop runs one backup at a time; a slot
 * missed while a backup ran or the machine slept runs once, as soon as it can, never as a burst.
 */
import { Cron } from 'croner'
import { parseDuration } from '../../pki/duration.js'

export interface Schedule {
  readonly text: string
  /** The first slot after `after`. */
  next(after: Date): Date
  /** Seconds between two slots (the first two after `from`, for cron). */
  intervalSeconds(from: Date): number
}

/** Throws an Error saying what is wrong with the expression. */
export function parseSchedule(text: string): Schedule {
  const every = /^@every\s+(\S+)$/.exec(text.trim())
  if (every) {
    const ms = durationOrNaN(every[1]!)
    if (!(ms >= 1_000)) throw new Error(`--schedule ${JSON.stringify(text)}: @every needs a duration of 1s or more, such as 30s, 5m or 1h`)
    return { text, next: (after) => new Date(after.getTime() + ms), intervalSeconds: () => ms / 1000 }
  }
  let cron: Cron
  try {
    cron = new Cron(text, { paused: true, timezone: 'UTC', mode: '5-or-6-parts' })
  } catch (err) {
    throw new Error(`--schedule ${JSON.stringify(text)}: ${(err as Error).message}`)
  }
  const next = (after: Date) => {
    const at = cron.nextRun(after)
    if (!at) throw new Error(`--schedule ${JSON.stringify(text)} has no next run`)
    return at
  }
  return { text, next, intervalSeconds: (from) => (next(next(from)).getTime() - next(from).getTime()) / 1000 }
}

/** pki's duration parser (`30s`, `1h30m`, `7d`), NaN for what it refuses: callers name their own flag. */
export function durationOrNaN(text: string): number {
  try {
    return parseDuration(text)
  } catch {
    return NaN
  }
}

/** Wall-clock waits are cut into steps so a clock jump (suspend, NTP) is seen within one step. */
const MAX_WAIT_MS = 30_000

export class ScheduleLoop {
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private wake: (() => void) | undefined
  private done: Promise<void> | undefined

  constructor(
    private readonly schedule: Schedule,
    private readonly job: () => Promise<void>,
  ) {}

  start(): void {
    this.done = this.loop()
  }

  /** Stops after the running backup, if any, has finished. */
  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    this.wake?.()
    await this.done
  }

  private async loop(): Promise<void> {
    let slot = this.schedule.next(new Date())
    while (!this.stopped) {
      await this.until(slot)
      if (this.stopped) return
      const started = new Date()
      await this.job()
      const following = this.schedule.next(started)
      slot = following.getTime() <= Date.now() ? new Date() : following
    }
  }

  private async until(at: Date): Promise<void> {
    while (!this.stopped && Date.now() < at.getTime()) {
      await new Promise<void>((resolve) => {
        this.wake = resolve
        this.timer = setTimeout(resolve, Math.min(MAX_WAIT_MS, at.getTime() - Date.now()))
      })
    }
  }
}
