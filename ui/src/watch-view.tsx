/** Watch: the events on a key or prefix as they happen, with pause, resume and clear. */
import { useEffect, useRef, useState } from 'preact/hooks'
import { displayText, fromWire } from './bytes.js'
import { TableHead } from './table-head.js'
import { ResumableWatch, type WatchEvent, type WatchStatus } from './watch-stream.js'

/** Events kept on screen; older ones are dropped so a busy prefix cannot grow the tab's memory. */
const KEEP = 1000

interface Row {
  seq: number
  event: WatchEvent
}

export function WatchView() {
  const [key, setKey] = useState('')
  const [prefix, setPrefix] = useState(true)
  const [start, setStart] = useState('')
  const [status, setStatus] = useState<WatchStatus | null>(null)
  const [rows, setRows] = useState<Row[]>([])
  const [paused, setPaused] = useState(false)
  const [held, setHeld] = useState(0)
  const watch = useRef<ResumableWatch | null>(null)
  const buffer = useRef<Row[]>([])
  const pausedRef = useRef(false)
  const seq = useRef(0)

  useEffect(() => () => watch.current?.stop(), [])

  const show = (more: Row[]) => setRows((old) => [...more.reverse(), ...old].slice(0, KEEP))
  const begin = (e: Event) => {
    e.preventDefault()
    watch.current?.stop()
    buffer.current = []
    setHeld(0)
    setRows([])
    const startRevision = start.trim() === '' ? 0 : Number(start)
    watch.current = new ResumableWatch(
      { key, prefix, startRevision },
      (events) => {
        const added = events.map((event) => ({ seq: ++seq.current, event }))
        if (pausedRef.current) {
          buffer.current = [...buffer.current, ...added].slice(-KEEP)
          setHeld(buffer.current.length)
        } else {
          show(added)
        }
      },
      setStatus,
    )
  }
  const stop = () => {
    watch.current?.stop()
    watch.current = null
    setStatus(null)
  }
  const togglePause = () => {
    pausedRef.current = !paused
    setPaused(!paused)
    if (paused) {
      show(buffer.current)
      buffer.current = []
      setHeld(0)
    }
  }

  return (
    <div class="watch">
      <form class="toolbar" onSubmit={begin} aria-label="Watch a key or prefix">
        <label for="watch-key">Key</label>
        <input id="watch-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="e.g. app/" />
        <label>
          <input type="checkbox" checked={prefix} onChange={(e) => setPrefix(e.currentTarget.checked)} /> as a prefix
        </label>
        <label for="watch-start">From revision</label>
        <input id="watch-start" inputMode="numeric" pattern="[0-9]*" size={8} value={start} onInput={(e) => setStart(e.currentTarget.value)} placeholder="now" />
        <button type="submit" class="primary">
          Watch
        </button>
        <button type="button" onClick={stop} disabled={!watch.current}>
          Stop
        </button>
        <button type="button" onClick={togglePause} aria-pressed={paused}>
          {paused ? `Resume${held ? ` (${held} held)` : ''}` : 'Pause'}
        </button>
        <button type="button" onClick={() => setRows([])}>
          Clear
        </button>
      </form>
      <p class="summary" role="status">
        {statusText(status)}
      </p>
      <table class="events">
        <caption class="visually-hidden">Watch events, newest first</caption>
        <TableHead columns={['Revision', 'Type', 'Key', 'Version', 'Value']} />
        <tbody>
          {rows.map(({ seq, event }) => (
            <tr key={seq} class={event.type === 'DELETE' ? 'delete' : 'put'}>
              <td>{event.kv.mod_revision}</td>
              <td>{event.type ?? 'PUT'}</td>
              <td>{displayText(fromWire(event.kv.key))}</td>
              <td>{event.kv.version ?? ''}</td>
              <td class="value-cell">{event.type === 'DELETE' ? '' : displayText(fromWire(event.kv.value)).slice(0, 200)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function statusText(s: WatchStatus | null): string {
  if (!s) return 'Not watching.'
  const at = 'revision' in s && s.revision !== undefined ? `, everything up to revision ${s.revision} delivered` : ''
  switch (s.state) {
    case 'connecting':
      return `Connecting${at}…`
    case 'watching':
      return `Watching${at}.`
    case 'reconnecting':
      return `Connection lost; resuming in ${Math.round(s.retryInMs / 100) / 10} s${at}.`
    case 'failed':
      return `Stopped: ${s.message}`
  }
}
