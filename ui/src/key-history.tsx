/**
 * A key's earlier versions, read one by one with a range at the revision before each version's
 * mod revision, back to its creation or to the compaction point; and a line diff between two of them.
 */
import { diffLines } from 'diff'
import { useEffect, useState } from 'preact/hooks'
import { api, ApiError, errorText, type KeyValue, OUT_OF_RANGE } from './api.js'
import { fromWire, toWire } from './bytes.js'
import { decodeValue, render } from './value-format.js'

const BATCH = 20

interface History {
  versions: KeyValue[]
  /** why there is nothing older: created, compacted, or undefined when more can be read */
  end?: string
}

export function KeyHistory({ keyBytes, latest }: { keyBytes: Uint8Array; latest: KeyValue }) {
  const [history, setHistory] = useState<History>({ versions: [latest] })
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState('')
  const [older, setOlder] = useState<string>('')
  const [newer, setNewer] = useState<string>(latest.mod_revision!)

  const readMore = async (from: History) => {
    setLoading(true)
    const versions = [...from.versions]
    let end: string | undefined
    try {
      while (versions.length < from.versions.length + BATCH) {
        const last = versions[versions.length - 1]!
        if (Number(last.version) <= 1) {
          end = `created at revision ${last.create_revision}`
          break
        }
        const res = await api.range({ key: toWire(keyBytes), revision: Number(last.mod_revision) - 1 })
        const kv = res.kvs?.[0]
        if (!kv) {
          end = `created at revision ${last.create_revision}`
          break
        }
        versions.push(kv)
      }
      setError('')
    } catch (err) {
      if (err instanceof ApiError && err.code === OUT_OF_RANGE) end = 'older revisions were compacted'
      else setError(errorText(err))
    }
    setHistory({ versions, ...(end ? { end } : {}) })
    if (!older && versions.length > 1) setOlder(versions[1]!.mod_revision!)
    setLoading(false)
  }
  useEffect(() => void readMore({ versions: [latest] }), [latest.mod_revision])

  const byRev = new Map(history.versions.map((kv) => [kv.mod_revision!, kv]))
  const a = byRev.get(older)
  const b = byRev.get(newer)
  return (
    <section class="history" aria-label="History">
      <h3>History</h3>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <table>
        <caption class="visually-hidden">Versions of this key, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Mod revision</th>
            <th scope="col">Size</th>
            <th scope="col">Lease</th>
          </tr>
        </thead>
        <tbody>
          {history.versions.map((kv) => (
            <tr key={kv.mod_revision}>
              <td>{kv.version}</td>
              <td>{kv.mod_revision}</td>
              <td>{fromWire(kv.value).length} bytes</td>
              <td>{kv.lease ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        {loading ? 'Reading…' : history.end ? `Nothing older: ${history.end}.` : (
          <button type="button" onClick={() => readMore(history)}>
            Older versions
          </button>
        )}
      </p>
      {history.versions.length > 1 && (
        <div class="diff-pick">
          <VersionSelect label="Compare" versions={history.versions} value={older} onChange={setOlder} />
          <VersionSelect label="with" versions={history.versions} value={newer} onChange={setNewer} />
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
