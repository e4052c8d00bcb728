/** One key: metadata, its lease's remaining time, its value in every view that fits, edit, delete and history. */
import { useEffect, useState } from 'preact/hooks'
import { api, errorText, type KeyValue } from './api.js'
import { displayText, fromWire, textBytes, toWire } from './bytes.js'
import { useConfirm } from './confirm.js'
import { KeyHistory } from './key-history.js'
import { deleteKey, saveEdit } from './key-writes.js'
import { LeaseCountdown } from './lease-countdown.js'
import { ValueView } from './value-view.js'
import { decodeValue } from './value-format.js'

export function KeyDetail({ keyBytes, onDeleted }: { keyBytes: Uint8Array; onDeleted: () => void }) {
  const [kv, setKv] = useState<KeyValue | null | undefined>(undefined)
  const [error, setError] = useState('')
  const [notice, setNotice] = useState('')
  const [editing, setEditing] = useState<string | null>(null)
  const [showHistory, setShowHistory] = useState(false)
  const [confirm, dialog] = useConfirm()
  const name = displayText(keyBytes)

  const load = async () => {
    try {
      const res = await api.range({ key: toWire(keyBytes) })
      setKv(res.kvs?.[0] ?? null)
      setError('')
    } catch (err) {
      setError(errorText(err))
    }
  }
  useEffect(() => void load(), [])

  const save = async () => {
    if (!kv || editing === null) return
    if (!(await confirm({ title: 'Save this value?', body: <p>Write the edited value to <code>{name}</code>, if nobody has changed it since mod revision {kv.mod_revision}.</p>, action: 'Save' }))) return
    try {
      const result = await saveEdit(kv, textBytes(editing))
      if (!result.ok) return setError(result.message)
      setEditing(null)
      setNotice(`Saved at revision ${result.revision}.`)
      await load()
    } catch (err) {
      setError(errorText(err))
    }
  }

  const remove = async () => {
    if (!kv) return
    if (!(await confirm({ title: 'Delete this key?', body: <p>Delete <code>{name}</code> (mod revision {kv.mod_revision})? Its history stays until the next compaction.</p>, action: 'Delete', danger: true }))) return
    try {
      const result = await deleteKey(kv)
      if (!result.ok) return setError(result.message)
      onDeleted()
    } catch (err) {
      setError(errorText(err))
    }
  }

  if (kv === undefined) return <p>{error || 'Loading…'}</p>
  const value = kv ? decodeValue(fromWire(kv.value)) : undefined
  return (
    <div class="detail">
      <h2 class="key-name">{name}</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice && !error && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {kv === null ? (
        <p>This key does not exist (any more).</p>
      ) : (
        <>
          <dl class="meta">
            <dt>Create revision</dt>
            <dd>{kv.create_revision}</dd>
            <dt>Mod revision</dt>
            <dd>{kv.mod_revision}</dd>
            <dt>Version</dt>
            <dd>{kv.version}</dd>
            <dt>Lease</dt>
            <dd>{kv.lease ? <LeaseCountdown id={kv.lease} /> : 'none'}</dd>
            <dt>Size</dt>
            <dd>{value!.bytes.length.toLocaleString('en')} bytes</dd>
          </dl>
          <div class="toolbar">
            {editing === null ? (
              <>
                <button type="button" onClick={() => setEditing(value!.text ?? '')} disabled={value!.text === undefined && value!.bytes.length > 0} title={value!.text === undefined && value!.bytes.length > 0 ? 'Binary values cannot be edited as text' : undefined}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={remove}>
                  Delete
                </button>
                <button type="button" onClick={() => { setNotice(''); setError(''); void load() }}>
                  Reload
                </button>
                <button type="button" aria-expanded={showHistory} onClick={() => setShowHistory(!showHistory)}>
                  History
                </button>
              </>
            ) : (
              <>
                <button type="button" class="primary" onClick={save}>
                  Save
                </button>
                <button type="button" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </>
            )}
          </div>
          {editing !== null ? (
            <>
              <label for="edit-value">New value (read at mod revision {kv.mod_revision})</label>
              <textarea id="edit-value" class="value-edit" value={editing} onInput={(e) => setEditing(e.currentTarget.value)} rows={16} />
            </>
          ) : (
            <ValueView value={value!} />
          )}
          {showHistory && <KeyHistory latest={kv} />}
        </>
      )}
      {dialog}
    </div>
  )
}
