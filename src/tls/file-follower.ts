/**
 * Follows a set of files (certificates, keys, CA bundles) and calls back when any of them is replaced or
 * rewritten: fs.watch on their directories (renames replace files), a settle delay so a renewal that
 * writes the key and then the certificate is seen once, and a periodic stat check for what fs.watch misses.
 */
import { watch, type FSWatcher } from 'node:fs'
import { stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'

export interface FollowLog {
  warn(obj: object, msg: string): void
}

export interface FollowOptions {
  /** the stat check that catches changes fs.watch missed */
  pollIntervalMs?: number
  /** how long the files must be quiet before they are read */
  settleMs?: number
}

export class FileFollower {
  private readonly watchers: FSWatcher[] = []
  private poll: NodeJS.Timeout | undefined
  private settle: NodeJS.Timeout | undefined
  private lastSeen = ''
  private checking: Promise<void> | undefined
  private checkAgain = false

  private constructor(
    private readonly files: readonly string[],
    private readonly onChange: () => Promise<void>,
  ) {}

  /** Takes the files' current state as the baseline; `onChange` runs for every later change. */
  static async open(files: readonly string[], onChange: () => Promise<void>): Promise<FileFollower> {
    const follower = new FileFollower(files, onChange)
    follower.lastSeen = await follower.fileVersions()
    return follower
  }

  start(log: FollowLog, options: FollowOptions = {}): void {
    const settleMs = options.settleMs ?? 200
    const schedule = () => {
      clearTimeout(this.settle)
      this.settle = setTimeout(() => void this.check(), settleMs)
    }
    for (const dir of new Set(this.files.map((file) => dirname(resolve(file))))) {
      try {
        const watcher = watch(dir, schedule)
        watcher.on('error', (err) => log.warn({ dir, error: err.message }, 'cannot watch TLS files; checking them periodically only'))
        this.watchers.push(watcher)
      } catch (err) {
        log.warn({ dir, error: (err as Error).message }, 'cannot watch TLS files; checking them periodically only')
      }
    }
    this.poll = setInterval(() => void this.check(), options.pollIntervalMs ?? 5_000)
    this.poll.unref()
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.close()
    clearInterval(this.poll)
    clearTimeout(this.settle)
    await this.checking
  }

  /** Calls back if any file changed since the last look; one check at a time, a request meanwhile runs after it. */
  private check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true
      return this.checking
    }
    this.checking = (async () => {
      do {
        this.checkAgain = false
        const seen = await this.fileVersions()
        if (seen !== this.lastSeen) {
          this.lastSeen = seen
          await this.onChange()
        }
      } while (this.checkAgain)
    })().finally(() => {
      this.checking = undefined
    })
    return this.checking
  }

  /** A fingerprint of the files' identities and times: any replacement or write changes it. */
  private async fileVersions(): Promise<string> {
    const versions = await Promise.all(
      this.files.map(async (file) => {
        try {
          const s = await stat(file, { bigint: true })
          return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
        } catch {
          return 'absent'
        }
      }),
    )
    return versions.join('|')
  }
}
