/** The console's shell: one view per tab, chosen by the URL's hash so that views can be linked and bookmarked. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { getText, session } from './api.js'
import { LoginForm } from './login.js'
import { BackupsView } from './backups-view.js'
import { CertsView } from './certs-view.js'
import { parseMetrics } from './prometheus.js'
import { ClusterView } from './cluster-view.js'
import { KeysView } from './keys-view.js'
import { WatchView } from './watch-view.js'
import './style.css'

const views = [
  { id: 'keys', label: 'Keys' },
  { id: 'watch', label: 'Watch' },
  { id: 'cluster', label: 'Cluster' },
  { id: 'certificates', label: 'Certificates' },
  /** only while the gateway takes scheduled backups (GET /backups answers, /metrics has etcdgw_backup_*) */
  { id: 'backups', label: 'Backups' },
] as const

type ViewId = (typeof views)[number]['id']

function current(shown: readonly ViewId[]): ViewId {
  const id = location.hash.replace(/^#\/?/, '')
  return shown.find((v) => v === id) ?? 'keys'
}

function App() {
  const [backups, setBackups] = useState(false)
  const [loginNeeded, setLoginNeeded] = useState(false)
  const [user, setUser] = useState<string | undefined>(undefined)
  /** Changes at each login and logout: the views start again, as the new user. */
  const [sessionKey, setSessionKey] = useState(0)
  // set while rendering, before any view's first request can answer
  session.onLoginNeeded = () => setLoginNeeded(true)
  const loggedIn = () => {
    setUser(session.user)
    setLoginNeeded(false)
    setSessionKey((k) => k + 1)
  }
  const logout = () => {
    session.logout()
    setUser(undefined)
    setSessionKey((k) => k + 1)
  }
  const shown = views.filter((v) => v.id !== 'backups' || backups).map((v) => v.id)
  const [view, setView] = useState<ViewId>(current(shown))
  useEffect(() => {
    // a server that takes scheduled backups says how often on /metrics
    void getText('/metrics').then((m) => setBackups(m.ok && parseMetrics(m.text).has('etcdgw_backup_schedule_interval_seconds')))
  }, [])
  useEffect(() => {
    const onHash = () => setView(current(shown))
    addEventListener('hashchange', onHash)
    // effects run after the first paint: a hash that changed in between fired no event we heard
    onHash()
    return () => removeEventListener('hashchange', onHash)
  }, [backups])
  useEffect(() => {
    document.title = `${views.find((v) => v.id === view)!.label} · etcdgw console`
  }, [view])
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header>
        <h1>etcdgw</h1>
        <nav aria-label="Views">
          <ul>
            {views.filter((v) => shown.includes(v.id)).map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === view ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {user && (
          <p class="user">
            {user}{' '}
            <button type="button" onClick={logout}>
              Log out
            </button>
          </p>
        )}
      </header>
      {loginNeeded && <LoginForm onLoggedIn={loggedIn} />}
      <main id="content" tabIndex={-1} key={sessionKey}>
        {/* Views stay mounted while hidden: a running watch keeps its events when you look elsewhere. */}
        <div hidden={view !== 'keys'} data-view="keys">
          <KeysView />
        </div>
        <div hidden={view !== 'watch'} data-view="watch">
          <WatchView />
        </div>
        <div hidden={view !== 'cluster'} data-view="cluster">
          <ClusterView active={view === 'cluster'} />
        </div>
        <div hidden={view !== 'certificates'} data-view="certificates">
          <CertsView active={view === 'certificates'} />
        </div>
        {backups && (
          <div hidden={view !== 'backups'} data-view="backups">
            <BackupsView active={view === 'backups'} />
          </div>
        )}
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
