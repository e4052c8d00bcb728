/**
 * A key's history as etcd keeps it: a watch on the key from revision 1 replays every put and delete still
 * stored, older generations included. When revisions up to some point were compacted, etcd cancels the
 * watch naming its compact revision, and the replay starts again there. The replay is complete once it
 * reaches the key's current mod revision; a current version older than the compaction is kept by etcd but
 * replayed by no watch, and is added as it was read.
 */
import type { KeyValue } from './api.js'
import { openWatchSocket, type WatchEvent, type WatchResult } from './watch-stream.js'

/** Events kept: the newest ones, so that a key written a million times cannot fill the tab. */
export const HISTORY_LIMIT = 500
const TIMEOUT_MS = 15_000

export interface KeyHistory {
  /** oldest first */
  events: WatchEvent[]
  /** the revision the replay started at: 1, or etcd's compact revision */
  from: number
  /** events before these were dropped (HISTORY_LIMIT) */
  truncated: boolean
}

export function readKeyHistory(latest: KeyValue): Promise<KeyHistory> {
  const until = Number(latest.mod_revision)
  return new Promise((resolve, reject) => {
    const events: WatchEvent[] = []
    let truncated = false
    let socket: WebSocket | undefined
    const timer = setTimeout(() => finish(new Error('the history did not arrive in time')), TIMEOUT_MS)
    const finish = (err?: Error, from?: number) => {
      clearTimeout(timer)
      if (socket) {
        socket.onclose = null
        socket.close()
      }
      if (err) reject(err)
      else resolve({ events, from: from!, truncated })
    }
    const replay = (from: number) => {
      if (from > until) {
        events.push({ type: 'PUT', kv: latest })
        return finish(undefined, from)
      }
      const ws = openWatchSocket()
      socket = ws
      ws.onopen = () => ws.send(JSON.stringify({ create_request: { key: latest.key, start_revision: from } }))
      ws.onclose = () => finish(new Error('the watch connection closed before the history was read'))
      ws.onmessage = (m) => {
        const { result, error } = JSON.parse(String(m.data)) as { result?: WatchResult; error?: { message?: string } }
        if (!result) return finish(new Error(error?.message ?? 'the watch failed'))
        if (result.compact_revision && result.compact_revision !== '0') {
          ws.onclose = null
          ws.close()
          return replay(Number(result.compact_revision))
        }
        if (result.canceled) return finish(new Error(result.cancel_reason || 'the watch was canceled'))
        for (const e of result.events ?? []) events.push(e)
        if (events.length > HISTORY_LIMIT) {
          events.splice(0, events.length - HISTORY_LIMIT)
          truncated = true
        }
        const last = events[events.length - 1]
        if (last && Number(last.kv.mod_revision) >= until) finish(undefined, from)
      }
    }
    replay(1)
  })
}
