/**
 * Defragments asked for during a stream of puts, on real etcd and on etcdgw: each is answered as etcd
 * answers it, every put is answered and kept, and the revisions follow the puts.
 */
import t, { type Test } from 'tap'
import { etcdMissing, type Server, startOurs, startRealEtcd } from '../helpers/servers.js'
import { settlesWithin } from '../helpers/settles-within.js'
import { b64, post } from '../helpers/stream-clients.js'

const WRITERS = 20
const DEFRAGMENTS = 3

/** What a client sees of the run: the defragments' answers, and whether every put was kept. */
async function defragmentUnderPuts(url: string) {
  let stop = false
  const writer = async (w: number) => {
    let puts = 0
    for (; !stop || puts < 20; puts++) {
      const res = await post(url, '/v3/kv/put', JSON.stringify({ key: b64(`w${w}/${puts}`), value: b64('v') }))
      if (res.status !== 200) throw new Error(`put answered ${res.status}: ${res.body}`)
    }
    return puts
  }
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
  const defragments: string[] = []
  for (let i = 0; i < DEFRAGMENTS; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    const res = await settlesWithin(post(url, '/v3/maintenance/defragment', '{}'), 20_000, `defragment ${i + 1}`)
    defragments.push(`${res.status} ${res.body}`)
  }
  stop = true
  const puts = (await settlesWithin(Promise.all(writers), 20_000, 'the puts')).reduce((a, b) => a + b, 0)
  const all = JSON.parse((await post(url, '/v3/kv/range', JSON.stringify({ key: 'AA==', range_end: 'AA==', count_only: true }))).body)
  return { defragments, keptEveryPut: all.count === String(puts), revisionAfterPuts: all.header.revision === String(puts + 1) }
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const outcomes: Record<string, Awaited<ReturnType<typeof defragmentUnderPuts>>> = {}
  const targets: [string, (t: Test) => Promise<Server>][] = [
    ['etcd', (t) => startRealEtcd(t)],
    ['etcdgw', (t) => startOurs(t)],
  ]
  for (const [name, start] of targets) {
    await t.test(name, async (t) => {
      outcomes[name] = await defragmentUnderPuts((await start(t)).url)
      t.same(outcomes[name], {
        defragments: Array.from({ length: DEFRAGMENTS }, () => '200 {}'),
        keptEveryPut: true,
        revisionAfterPuts: true,
      })
    })
  }
  t.same(outcomes.etcdgw, outcomes.etcd, 'etcdgw as etcd')
}
