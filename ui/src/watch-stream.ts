/**
 * One watch over the gateway's WebSocket (`/v3/watch?encoding=utf8`) that survives a lost connection:
 * it reconnects with start_revision = the last revision it has delivered + 1, and drops any event at or
 * below that revision, so the events it delivers have no gap and no duplicate.
 */
import { type KeyValue, watchProtocols } from './api.js'
import type { WireBytes } from './bytes.js'

export interface WatchEvent {
  type?: 'PUT' | 'DELETE'
  kv: KeyValue
}

export interface WatchResult {
  header?: { revision?: string }
  created?: boolean
  canceled?: boolean
  cancel_reason?: string
  compact_revision?: string
  events?: WatchEvent[]
}

export type WatchStatus =
  | { state: 'connecting' | 'watching'; revision?: number }
  | { state: 'reconnecting'; revision?: number; retryInMs: number }
  | { state: 'failed'; message: string }

export interface WatchTarget {
  key: WireBytes
  prefix: boolean
  /** 0: from now on */
  startRevision: number
}

const MAX_BACKOFF_MS = 5000

/** The gateway's watch WebSocket in text mode, on the page's own origin. */
export function openWatchSocket(): WebSocket {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return new WebSocket(`${scheme}://${location.host}/v3/watch?encoding=utf8`, watchProtocols())
}

export class ResumableWatch {
  /** the revision up to which every event has been delivered */
  private delivered: number | undefined
  private socket: WebSocket | undefined
  private stopped = false
  private backoffMs = 250
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly target: WatchTarget,
    private readonly onEvents: (events: WatchEvent[], revision: number) => void,
    private readonly onStatus: (status: WatchStatus) => void,
  ) {
    if (target.startRevision > 0) this.delivered = target.startRevision - 1
    this.connect()
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.socket?.close()
  }

  private connect(): void {
    const socket = openWatchSocket()
    this.socket = socket
    this.onStatus({ state: 'connecting', ...this.revision() })
    socket.onopen = () => {
      const start = this.delivered === undefined ? 0 : this.delivered + 1
      socket.send(JSON.stringify({ create_request: { key: this.target.key, prefix: this.target.prefix, start_revision: start } }))
    }
    socket.onmessage = (m) => this.receive(JSON.parse(String(m.data)) as { result?: WatchResult; error?: { message?: string } })
    socket.onclose = () => {
      if (this.stopped || socket !== this.socket) return
      const retryInMs = this.backoffMs
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS)
      this.onStatus({ state: 'reconnecting', retryInMs, ...this.revision() })
      this.timer = setTimeout(() => this.connect(), retryInMs)
    }
  }

  private receive(message: { result?: WatchResult; error?: { message?: string } }): void {
    const r = message.result
    if (!r) return this.fail(message.error?.message ?? 'the watch stream failed')
    const revision = Number(r.header?.revision ?? 0)
    if (r.compact_revision && r.compact_revision !== '0') {
      return this.fail(`events from revision ${(this.delivered ?? 0) + 1} on were compacted (compaction at ${r.compact_revision}); start again from a newer revision`)
    }
    if (r.canceled) return this.fail(r.cancel_reason || 'the watch was canceled by the server')
    if (r.created) {
      this.backoffMs = 250
      // From now on: every event after the creation's revision comes to this watch.
      this.delivered ??= revision
      return this.onStatus({ state: 'watching', ...this.revision() })
    }
    const fresh = (r.events ?? []).filter((e) => Number(e.kv.mod_revision) > this.delivered!)
    if (fresh.length > 0) {
      this.delivered = Number(fresh[fresh.length - 1]!.kv.mod_revision)
      this.onEvents(fresh, this.delivered)
    } else if (!r.events && revision > this.delivered!) {
      // A progress notification: nothing up to its revision is left to come.
      this.delivered = revision
    }
    this.onStatus({ state: 'watching', ...this.revision() })
  }

  private fail(message: string): void {
    this.stopped = true
    this.socket?.close()
    this.onStatus({ state: 'failed', message })
  }

  private revision(): { revision?: number } {
    return this.delivered === undefined ? {} : { revision: this.delivered }
  }
}
