/** A key's puts and deletes back to the compaction point (key-history-read.ts), and a line diff between two versions. */
import { diffLines } from 'diff'
import { useEffect, useState } from 'preact/hooks'
import { errorText, type KeyValue } from './api.js'
import { fromWire } from './bytes.js'
import { HISTORY_LIMIT, type KeyHistory as History, readKeyHistory } from './key-history-read.js'
import { TableHead } from './table-head.js'
import { decodeValue, render } from './value-format.js'

export function KeyHistory({ latest }: { latest: KeyValue }) {
  const [history, setHistory] = useState<History | null>(null)
  const [error, setError] = useState('')
  const [older, setOlder] = useState('')
  const [newer, setNewer] = useState('')

  useEffect(() => {
    let current = true
    readKeyHistory(latest).then(
      (h) => {
        if (!current) return
        setHistory(h)
        const puts = h.events.filter((e) => e.type !== 'DELETE')
        setNewer(puts[puts.length - 1]?.kv.mod_revision ?? '')
        setOlder(puts[puts.length - 2]?.kv.mod_revision ?? '')
      },
      (err) => current && setError(errorText(err)),
    )
    return () => {
      current = false
    }
  }, [latest.mod_revision])

  if (error) return <p class="error" role="alert">{error}</p>
  if (!history) return <p>Reading the history…</p>
  const newestFirst = [...history.events].reverse()
  const versions = newestFirst.filter((e) => e.type !== 'DELETE').map((e) => e.kv)
  const byRev = new Map(versions.map((kv) => [kv.mod_revision!, kv]))
  const a = byRev.get(older)
  const b = byRev.get(newer)
  return (
    <section class="history" aria-label="History">
      <h3>History</h3>
      <table>
        <caption class="visually-hidden">Puts and deletes of this key, newest first</caption>
        <TableHead columns={['Revision', 'Event', 'Version', 'Size', 'Lease']} />
        <tbody>
          {newestFirst.map(({ type, kv }) => (
            <tr key={kv.mod_revision} class={type === 'DELETE' ? 'delete' : 'put'}>
              <td>{kv.mod_revision}</td>
              <td>{type === 'DELETE' ? 'deleted' : kv.version === '1' ? 'created' : 'put'}</td>
              <td>{kv.version ?? ''}</td>
              <td>{type === 'DELETE' ? '' : `${fromWire(kv.value).length} bytes`}</td>
              <td>{kv.lease ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        {history.truncated
          ? `The newest ${HISTORY_LIMIT} events are shown.`
          : history.from > 1
            ? `Revisions before ${history.from} were compacted.`
            : 'Nothing of this key has been compacted.'}
      </p>
      {versions.length > 1 && (
        <div class="diff-pick">
          <VersionSelect label="Compare" versions={versions} value={older} onChange={setOlder} />
          <VersionSelect label="with" versions={versions} value={newer} onChange={setNewer} />
        </div>
      )}
      {a && b && <Diff older={a} newer={b} />}
    </section>
  )
}

function VersionSelect({ label, versions, value, onChange }: { label: string; versions: KeyValue[]; value: string; onChange: (rev: string) => void }) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {versions.map((kv) => (
          <option key={kv.mod_revision} value={kv.mod_revision}>{`version ${kv.version} (revision ${kv.mod_revision})`}</option>
        ))}
      </select>
    </label>
  )
}

function Diff({ older, newer }: { older: KeyValue; newer: KeyValue }) {
  const text = (kv: KeyValue) => {
    const v = decodeValue(fromWire(kv.value))
    return render(v, v.best) + '\n'
  }
  const parts = diffLines(text(older), text(newer))
  return (
    <pre class="diff" tabIndex={0} aria-label={`Changes from revision ${older.mod_revision} to revision ${newer.mod_revision}`}>
      {parts.map((p, i) => (
        <span key={i} class={p.added ? 'added' : p.removed ? 'removed' : 'same'}>
          {p.value
            .replace(/\n$/, '')
            .split('\n')
            .map((line) => `${p.added ? '+ ' : p.removed ? '- ' : '  '}${line}\n`)
            .join('')}
        </span>
      ))}
    </pre>
  )
}
