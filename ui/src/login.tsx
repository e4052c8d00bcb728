/**
 * Log in, when the cluster has authentication on: etcd's /v3/auth/authenticate with a user's name and
 * password. The token lives in this tab's memory only (api.ts's session).
 */
import { useState } from 'preact/hooks'
import { errorText, session } from './api.js'

export function LoginForm({ onLoggedIn }: { onLoggedIn: () => void }) {
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    try {
      await session.login(name, password)
      setPassword('')
      setError('')
      onLoggedIn()
    } catch (err) {
      setError(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <section class="card login" aria-labelledby="login-title">
      <h2 id="login-title">Log in</h2>
      <p class="hint">This cluster has authentication on: the console acts as the user you log in as, with that user's permissions. The token is kept in this tab only.</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="login-name">User</label>
        <input id="login-name" name="username" autoComplete="username" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
        <label for="login-password">Password</label>
        <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
    </section>
  )
}
