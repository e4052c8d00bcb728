/** Keys: a flat list or a tree by '/', paged on the server, with a prefix search and the selected key's details. */
import { useEffect, useRef, useState } from 'preact/hooks'
import { errorText } from './api.js'
import { displayText, equalBytes, textBytes } from './bytes.js'
import { KeyDetail } from './key-detail.js'
import { flatPage, type Page, PAGE_SIZE, treePage } from './key-pages.js'
import { NewKeyForm } from './new-key.js'
import { moveFocus } from './focus.js'

type Mode = 'flat' | 'tree'

interface Position {
  mode: Mode
  prefix: string
  /** starts of the pages before this one, for Previous */
  back: (Uint8Array | undefined)[]
  from?: Uint8Array
  /** 0: the first page reads the newest revision, and the pages after it read that same one */
  revision: number
  /** from the page before (see key-pages.ts) */
  windowHint?: number
}

export function KeysView() {
  const [pos, setPos] = useState<Position>({ mode: 'tree', prefix: '', back: [], revision: 0 })
  const [page, setPage] = useState<Page | null>(null)
  const [error, setError] = useState('')
  const [loading, setLoading] = useState(false)
  const [selected, setSelected] = useState<Uint8Array | null>(null)
  const [creating, setCreating] = useState(false)
  const [search, setSearch] = useState('')
  const [firstCount, setFirstCount] = useState<number | undefined>(undefined)
  const listRef = useRef<HTMLUListElement>(null)
  const seq = useRef(0)
  const ahead = useRef<{ at: string; page: Promise<Page> } | null>(null)

  useEffect(() => {
    const mine = ++seq.current
    setLoading(true)
    const wanted = ahead.current?.at === positionKey(pos) ? ahead.current.page : loadPage(pos)
    ahead.current = null
    wanted.then(
      (p) => {
        if (mine !== seq.current) return
        if (p.next) {
          // The next page is read while this one is looked at: Next then shows at once.
          const following = pageAfter(pos, p)
          ahead.current = { at: positionKey(following), page: loadPage(following) }
          ahead.current.page.catch(() => undefined)
        }
        setPage(p)
        setError('')
        setLoading(false)
        if (pos.back.length === 0) setFirstCount(p.total)
      },
      (err) => {
        if (mine !== seq.current) return
        setError(errorText(err))
        setLoading(false)
      },
    )
  }, [pos])

  const go = (prefix: string, mode: Mode = pos.mode) => {
    setSearch(prefix)
    setPos({ mode, prefix, back: [], revision: 0 })
  }
  const next = () => page?.next && setPos(pageAfter(pos, page))
  const previous = () =>
    pos.back.length > 0 && setPos({ ...pos, back: pos.back.slice(0, -1), from: pos.back[pos.back.length - 1], revision: page?.revision ?? 0, windowHint: page?.windowHint })
  const refresh = () => setPos({ ...pos, back: [], from: undefined, revision: 0 })

  const pageIndex = pos.back.length
  const crumbs = pos.prefix.split('/').slice(0, -1)

  return (
    <div class="keys">
      <section class="key-list" aria-label="Key list">
        <form
          class="toolbar"
          role="search"
          onSubmit={(e) => {
            e.preventDefault()
            go(search)
          }}
        >
          <label for="key-search">Prefix</label>
          <input id="key-search" type="search" value={search} placeholder="e.g. /registry/pods/" onInput={(e) => setSearch(e.currentTarget.value)} />
          <button type="submit">Search</button>
        </form>
        <div class="toolbar">
          <fieldset class="segmented">
            <legend class="visually-hidden">Layout</legend>
            {(['tree', 'flat'] as const).map((m) => (
              <label key={m}>
                <input type="radio" name="key-layout" value={m} checked={pos.mode === m} onChange={() => go(pos.prefix, m)} />
                {m === 'tree' ? 'Tree' : 'Flat'}
              </label>
            ))}
          </fieldset>
          <button type="button" onClick={refresh} aria-label="Reload the list at the newest revision">
            Reload
          </button>
          <button type="button" onClick={() => setCreating(true)}>
            New key
          </button>
        </div>
        {pos.mode === 'tree' && (
          <nav class="crumbs" aria-label="Directory">
            <button type="button" class="link" onClick={() => go('', 'tree')}>
              (root)
            </button>
            {crumbs.map((c, i) => (
              <span key={i}>
                {' / '}
                <button type="button" class="link" onClick={() => go(crumbs.slice(0, i + 1).join('/') + '/', 'tree')}>
                  {c === '' ? '(empty)' : c}
                </button>
              </span>
            ))}
          </nav>
        )}
        <p class="summary" aria-live="polite">
          {loading ? 'Loading…' : page ? summary(pos, page, pageIndex, firstCount) : ''}
        </p>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <ul class="entries" ref={listRef} aria-label={pos.mode === 'tree' ? 'Keys and directories' : 'Keys'} onKeyDown={(e) => moveFocus(e, listRef.current!, 'button')}>
          {page?.entries.map((entry) => (
            <li key={displayText(entry.key) + entry.dir}>
              <button
                type="button"
                class={entry.dir ? 'entry dir' : selected && equalBytes(selected, entry.key) ? 'entry selected' : 'entry'}
                aria-current={!entry.dir && selected !== null && equalBytes(selected, entry.key) ? 'true' : undefined}
                onClick={() => (entry.dir ? go(new TextDecoder().decode(entry.key), 'tree') : setSelected(entry.key))}
              >
                {entry.dir ? '▸ ' : ''}
                {entry.label.length === 0 ? '(the directory key itself)' : displayText(entry.label)}
              </button>
            </li>
          ))}
        </ul>
        <div class="pager">
          <button type="button" onClick={previous} disabled={pageIndex === 0 || loading}>
            Previous page
          </button>
          <span>Page {pageIndex + 1}</span>
          <button type="button" onClick={next} disabled={!page?.next || loading}>
            Next page
          </button>
        </div>
      </section>
      <section class="key-detail" aria-label="Key details">
        {creating ? (
          <NewKeyForm
            initialKey={pos.mode === 'tree' ? pos.prefix : search}
            onDone={(key) => {
              setCreating(false)
              if (key) {
                setSelected(key)
                refresh()
              }
            }}
          />
        ) : selected ? (
          <KeyDetail key={displayText(selected)} keyBytes={selected} onDeleted={() => { setSelected(null); refresh() }} />
        ) : (
          <p class="hint">Select a key to see its value, metadata and history.</p>
        )}
      </section>
    </div>
  )
}

function pageAfter(pos: Position, page: Page): Position {
  return { ...pos, back: [...pos.back, pos.from], from: page.next, revision: page.revision, windowHint: page.windowHint }
}

function loadPage(pos: Position): Promise<Page> {
  return (pos.mode === 'flat' ? flatPage : treePage)(textBytes(pos.prefix), pos.from, pos.revision, pos.windowHint)
}

/** What identifies the page a position shows. */
const positionKey = (pos: Position) => `${pos.mode}|${pos.prefix}|${pos.revision}|${pos.from ? Array.from(pos.from).join(',') : ''}`

function summary(pos: Position, page: Page, index: number, firstCount: number | undefined): string {
  const at = `at revision ${page.revision}`
  if (pos.mode === 'tree') return `${page.entries.length} ${page.entries.length === 1 ? 'entry' : 'entries'} on page ${index + 1} ${at}`
  const first = index * PAGE_SIZE + 1
  const total = firstCount !== undefined ? ` of ${firstCount.toLocaleString('en')}` : ''
  if (page.entries.length === 0) return `No keys ${at}`
  return `Keys ${first.toLocaleString('en')}–${(first + page.entries.length - 1).toLocaleString('en')}${total} ${at}`
}
