import t from 'tap'
import { WatchFilter, type Backend, type WatchResponse } from '../../../src/backend/backend.js'
import { openRemoteBackend } from '../../../src/backend/remote/index.js'
import * as gw from '../../helpers/etcd-json-gateway.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { deleteRange, put, watchCreate } from '../../helpers/requests.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd({ flags: ['--experimental-watch-progress-notify-interval', '300ms'] })
  t.teardown(() => etcd.stop())
  const backend: Backend = await openRemoteBackend({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
  t.teardown(() => backend.close())

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
  async function until(what: string, check: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await sleep(10)
    }
  }
  function ours(): { responses: WatchResponse[]; stream: ReturnType<Backend['watch']['open']> } {
    const responses: WatchResponse[] = []
    return { responses, stream: backend.watch.open((r) => responses.push(r)) }
  }

  await t.test('creates, events, filters, prev_kv, refusals and cancel answer as etcd gateway', async (t) => {
    const start = (await backend.kv.put(put({ key: 'w/seed', value: 's' }))).header.revision
    const messages = [
      { create_request: { key: gw.b64('w/'), range_end: gw.b64('w0'), prev_kv: true } },
      { create_request: { key: gw.b64('w/a'), start_revision: start, filters: ['NOPUT'] } },
      { create_request: { key: gw.b64('w/'), range_end: gw.b64('w0'), watch_id: 7 } },
      { create_request: { key: gw.b64('w/'), watch_id: 7 } },
      { create_request: { key: gw.b64('w/z'), range_end: gw.b64('w/a') } },
    ]
    const theirs = gw.gatewayWatch(etcd.url, messages)
    t.teardown(theirs.close)
    const mine = ours()
    t.teardown(() => mine.stream.close())
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'w/', rangeEnd: 'w0', prevKv: true }) })
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'w/a', startRevision: start, filters: [WatchFilter.NOPUT] }) })
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'w/', rangeEnd: 'w0', watchId: 7 }) })
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'w/', watchId: 7 }) })
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'w/z', rangeEnd: 'w/a' }) })
    await until('created responses', () => theirs.responses.length === 5 && mine.responses.length === 5)
    await backend.kv.put(put({ key: 'w/a', value: '1' }))
    await backend.kv.put(put({ key: 'w/a', value: '2' }))
    await backend.kv.put(put({ key: 'w/b', value: '3' }))
    await backend.kv.deleteRange(deleteRange({ key: 'w/a' }))
    await backend.kv.put(put({ key: 'other', value: '4' }))
    // 4 revisions: watch 0 and watch 7 see each, watch 1 only the delete
    await until('events', () => theirs.responses.length === 14 && mine.responses.length === 14)
    const byWatch = (rs: WatchResponse[]) => [...rs].sort((a, b) => a.watchId - b.watchId || a.header.revision - b.header.revision)
    // watch 1 starts in the past, so etcd delivers its events from its catch-up loop (every 100 ms), stamped
    // with the revision current at that moment: any revision from its event's on, differently for each stream
    const last = start + 5
    const caughtUp = (rs: WatchResponse[]) =>
      byWatch(rs).map((r) => {
        if (r.watchId !== 1 || r.events.length === 0) return r
        t.ok(r.header.revision >= r.events.at(-1)!.kv.modRevision && r.header.revision <= last, `watch 1's header revision ${r.header.revision} is from its events' on`)
        return { ...r, header: { ...r.header, revision: last } }
      })
    t.same(caughtUp(mine.responses), caughtUp(theirs.responses))
    mine.stream.send({ kind: 'cancel', request: { watchId: 7 } })
    mine.stream.send({ kind: 'cancel', request: { watchId: 99 } })
    await until('cancel', () => mine.responses.length === 15)
    t.match(mine.responses[14], { watchId: 7, canceled: true, created: false })
    await backend.kv.put(put({ key: 'w/c', value: '5' }))
    await until('event after cancel', () => mine.responses.length === 16)
    t.equal(mine.responses[15]!.watchId, 0, 'the canceled watch gets no more events')
  })

  await t.test('progress_request and progress_notify', async (t) => {
    const mine = ours()
    t.teardown(() => mine.stream.close())
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'quiet', progressNotify: true }) })
    mine.stream.send({ kind: 'progress', request: {} })
    await until('created and progress', () => mine.responses.length === 2)
    const theirs = gw.gatewayWatch(etcd.url, [{ create_request: { key: gw.b64('quiet') } }, { progress_request: {} }])
    t.teardown(theirs.close)
    await until('gateway progress', () => theirs.responses.length === 2)
    t.same(mine.responses[1], theirs.responses[1], 'a progress response: watch_id -1, current revision')
    await until('progress notification', () => mine.responses.length >= 3)
    t.match(mine.responses[2], { watchId: 0, created: false, canceled: false, events: [] })
  })

  await t.test('a watch from a compacted revision is canceled with compact_revision, as by etcd', async (t) => {
    const first = (await backend.kv.put(put({ key: 'cw', value: '1' }))).header.revision
    const last = (await backend.kv.put(put({ key: 'cw', value: '2' }))).header.revision
    await backend.kv.compact({ revision: last, physical: true })
    const mine = ours()
    t.teardown(() => mine.stream.close())
    mine.stream.send({ kind: 'create', request: watchCreate({ key: 'cw', startRevision: first }) })
    const theirs = gw.gatewayWatch(etcd.url, [{ create_request: { key: gw.b64('cw'), start_revision: first } }])
    t.teardown(theirs.close)
    await until('cancel', () => mine.responses.length === 2 && theirs.responses.length === 2)
    t.same(mine.responses, theirs.responses)
    t.match(mine.responses[1], { canceled: true, compactRevision: last })
  })
}
