/** The console's shell: one view per tab, chosen by the URL's hash so that views can be linked and bookmarked. */
import { render } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { CertsView } from './certs-view.js'
import { ClusterView } from './cluster-view.js'
import { KeysView } from './keys-view.js'
import { WatchView } from './watch-view.js'
import './style.css'

const views = [
  { id: 'keys', label: 'Keys' },
  { id: 'watch', label: 'Watch' },
  { id: 'cluster', label: 'Cluster' },
  { id: 'certificates', label: 'Certificates' },
] as const

type ViewId = (typeof views)[number]['id']

function current(): ViewId {
  const id = location.hash.replace(/^#\/?/, '')
  return views.find((v) => v.id === id)?.id ?? 'keys'
}

function App() {
  const [view, setView] = useState<ViewId>(current())
  useEffect(() => {
    const onHash = () => setView(current())
    addEventListener('hashchange', onHash)
    // effects run after the first paint: a hash that changed in between fired no event we heard
    onHash()
    return () => removeEventListener('hashchange', onHash)
  }, [])
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
            {views.map((v) => (
              <li key={v.id}>
                <a href={`#/${v.id}`} aria-current={v.id === view ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="content" tabIndex={-1}>
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
      </main>
    </>
  )
}

render(<App />, document.getElementById('app')!)
