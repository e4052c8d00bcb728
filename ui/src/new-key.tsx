/** A new key: written only if it does not exist yet (a txn comparing its create revision with 0). */
import { useState } from 'preact/hooks'
import { errorText } from './api.js'
import { textBytes } from './bytes.js'
import { useConfirm } from './confirm.js'
import { createKey } from './key-writes.js'

export function NewKeyForm({ initialKey, onDone }: { initialKey: string; onDone: (key?: Uint8Array) => void }) {
  const [key, setKey] = useState(initialKey)
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  const [confirm, dialog] = useConfirm()
  const submit = async (e: Event) => {
    e.preventDefault()
    if (key === '') return setError('A key must not be empty.')
    if (!(await confirm({ title: 'Create this key?', body: <p>Put <code>{key}</code> ({textBytes(value).length} bytes), unless it exists already.</p>, action: 'Create' }))) return
    try {
      const result = await createKey(textBytes(key), textBytes(value))
      if (!result.ok) return setError(result.message)
      onDone(textBytes(key))
    } catch (err) {
      setError(errorText(err))
    }
  }
  return (
    <div class="detail new-key">
    <form onSubmit={submit}>
      <h2>New key</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <label for="new-key">Key</label>
      <input id="new-key" value={key} onInput={(e) => setKey(e.currentTarget.value)} autofocus />
      <label for="new-value">Value</label>
      <textarea id="new-value" class="value-edit" rows={12} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      <div class="buttons">
        <button type="submit" class="primary">
          Create
        </button>
        <button type="button" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
    {dialog}
    </div>
  )
}
