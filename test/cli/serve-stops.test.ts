/**
 * `etcdgw serve` in front of etcd stops at start when the replica of etcd's keyspace would not fit in
 * --replica-max-bytes: one line naming the figures and what to do, exit status 1, no stack trace. (The
 * embedded store's damaged log stops the start the same way: log-replay.test.ts.)
 */
import t from 'tap'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import * as gw from '../helpers/etcd-json-gateway.js'
import { etcdgw } from '../helpers/snapshot-workload.js'

const KEYS = 50

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  t.test('a replica larger than --replica-max-bytes: serve refuses to start, saying why', async (t) => {
    const etcd = await startEtcd({ fastElection: true, teardown: t })
    const statuses: number[] = []
    for (let i = 0; i < KEYS; i++) statuses.push((await gw.gateway(etcd.url, '/v3/kv/put', { key: gw.b64(`k${i}`), value: gw.b64('v'.repeat(100)) })).status)
    t.same(statuses, statuses.map(() => 200), `${KEYS} keys in etcd`)
    // the replica loads before serve listens once etcd has said it has auth disabled, which serve waits for
    // up to --command-timeout: generous, so that a loaded machine's slow answer still comes in time
    const r = await etcdgw(['serve', '--endpoints', etcd.url, '--replica-max-bytes', '1000', '--command-timeout', '20s', '--listen-client-urls', 'http://127.0.0.1:0'])
    t.equal(r.code, 1, 'serve exits 1')
    t.match(
      r.stderr,
      new RegExp(`^etcdgw serve: replica: ${KEYS} keys would take about \\d+ bytes of memory, more than --replica-max-bytes 1000; raise it, or run with --replica=false\\n$`),
      'one line: the keys, the estimate, the limit and what to do',
    )
  })
}
