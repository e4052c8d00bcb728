import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { post } from '../helpers/http.js'

/*
 * kill -9 under load: 32 writers put unique keys into a child server, which is SIGKILLed at a random
 * moment. After a restart every acknowledged write must be there with the revision it was
 * acknowledged with, and the revisions in the store must be contiguous (2..N, one per put).
 */

const TRIALS = Number(process.env.CRASH_TRIALS ?? 10)
const WRITERS = 32
const b64 = (s: string) => Buffer.from(s).toString('base64')

for (let trial = 0; trial < TRIALS; trial++) {
  t.test(`kill -9 under ${WRITERS} writers, trial ${trial + 1}`, async (t) => {
    const server = await startGateway({ teardown: t })
    const acked = new Map<string, number>()
    let stop = false
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        const key = `w${w}/${n}`
        try {
          const res = await post(server.url, '/v3/kv/put', JSON.stringify({ key: b64(key), value: b64(`v${n}`) }), { timeoutMs: 5_000 })
          if (res.status !== 200) return
          acked.set(key, Number(JSON.parse(res.body).header.revision))
        } catch {
          return
        }
      }
    }
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w))
    // the random moment is counted from the first acknowledgement, so a slow start still crashes under load
    const started = Date.now()
    while (acked.size === 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 5))
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 600))
    await server.kill('SIGKILL')
    stop = true
    await Promise.all(writers)
    t.ok(acked.size > 0, `${acked.size} writes acknowledged before the kill`)

    await server.restart()
    const res = await post(server.url, '/v3/kv/range', JSON.stringify({ key: 'AA==', range_end: 'AA==' }))
    t.equal(res.status, 200, 'the store opens after the crash')
    const body = JSON.parse(res.body) as { header: { revision: string }; kvs?: { key: string; value: string; mod_revision: string }[] }
    const found = new Map((body.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString(), kv]))
    const lost = [...acked].filter(([key, rev]) => found.get(key)?.mod_revision !== String(rev))
    t.same(lost, [], 'every acknowledged write survives with its revision')
    const revs = [...found.values()].map((kv) => Number(kv.mod_revision)).sort((x, y) => x - y)
    const gaps = revs.filter((rev, i) => rev !== i + 2)
    t.same(gaps, [], 'revisions are contiguous from 2')
    t.equal(Number(body.header.revision), revs.length + 1, 'the current revision is the last write')
    const after = await post(server.url, '/v3/kv/put', JSON.stringify({ key: b64('after'), value: b64('x') }))
    t.equal(Number(JSON.parse(after.body).header.revision), revs.length + 2, 'writes continue at the next revision')
  })
}
