/**
 * A quota filled by puts, on real etcd and on etcdgw: the same refusals (NOSPACE, its alarm, reads and
 * deletes still served) and the same recovery (delete, compact, defragment, disarm). Where each refuses
 * depends on how its file grows and when it sees it: etcd's size moves at its backend commits (every 100 ms),
 * so it refused after 18–35 puts here (more than twice the quota under load); etcdgw counts the logged writes lmdb
 * has yet to take, and refuses before twice the quota whatever the load.
 */
import t, { type Test } from 'tap'
import { etcdMissing, type Server, startOurs, startRealEtcd } from '../helpers/servers.js'
import { b64, post } from '../helpers/stream-clients.js'

const QUOTA = 1 << 20
const VALUE = Buffer.alloc(64 << 10, 7).toString('base64')
/** Puts of VALUE that twice the quota holds. */
const TWICE_THE_QUOTA = (2 * QUOTA) / (64 << 10)
/** Puts tried at most before the run gives up waiting for a refusal. */
const MAX_PUTS = 8 * TWICE_THE_QUOTA

/** What a client sees as the quota fills and is recovered from, with the member's id made `self`. */
async function fillAndRecover(url: string) {
  const call = async (path: string, body: unknown = {}) => {
    const res = await post(url, path, JSON.stringify(body))
    return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> }
  }
  const memberId = ((await call('/v3/maintenance/status')).json.header as { member_id: string }).member_id
  const answer = (r: { status: number; json: unknown }) => `${r.status} ${JSON.stringify(r.json).replaceAll(memberId, 'self')}`
  const without = ({ header: _, ...rest }: Record<string, unknown>) => rest

  let fitted = 0
  let refusal = ''
  while (fitted < MAX_PUTS) {
    const res = await call('/v3/kv/put', { key: b64(`k${fitted}`), value: VALUE })
    if (res.status !== 200) {
      refusal = answer(res)
      break
    }
    fitted++
  }
  const revision = async () => ((await call('/v3/kv/range', { key: b64('k0') })).json.header as { revision: string }).revision
  const before = await revision()
  const seen = {
    someFitted: fitted > 0,
    refusal,
    nextPut: answer(await call('/v3/kv/put', { key: b64('x'), value: b64('y') })),
    leaseGrant: answer(await call('/v3/lease/grant', { TTL: 60 })),
    alarms: answer(await call('/v3/maintenance/alarm', { action: 'GET' })),
    readServed: (await call('/v3/kv/range', { key: b64('k0') })).status,
    refusalsMadeNoRevision: (await revision()) === before,
    deletedEveryAcknowledgedPut: false,
    compaction: 0,
    defragment: '',
    disarm: '',
    putAfter: 0,
    alarmsAfter: '',
  }
  // every acknowledged put is there to delete (real etcd now and then also keeps the put it answered with
  // NOSPACE: 19 keys after 18 acknowledged puts, seen here)
  const deleted = Number((await call('/v3/kv/deleterange', { key: b64('k'), range_end: b64('l') })).json.deleted)
  seen.deletedEveryAcknowledgedPut = deleted >= fitted
  seen.compaction = (await call('/v3/kv/compaction', { revision: await revision(), physical: true })).status
  seen.defragment = answer(await call('/v3/maintenance/defragment'))
  const disarm = await call('/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: memberId, alarm: 'NOSPACE' })
  seen.disarm = answer({ status: disarm.status, json: without(disarm.json) })
  seen.putAfter = (await call('/v3/kv/put', { key: b64('x'), value: b64('y') })).status
  const after = await call('/v3/maintenance/alarm', { action: 'GET' })
  seen.alarmsAfter = answer({ status: after.status, json: without(after.json) })
  return { fitted, deleted, seen }
}

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const seen: Record<string, Awaited<ReturnType<typeof fillAndRecover>>['seen']> = {}
  const targets: [string, (t: Test) => Promise<Server>][] = [
    ['etcd', (t) => startRealEtcd(t, ['--quota-backend-bytes', String(QUOTA)])],
    ['etcdgw', (t) => startOurs(t, { backend: { quotaBackendBytes: QUOTA } })],
  ]
  for (const [name, start] of targets) {
    await t.test(name, async (t) => {
      const run = await fillAndRecover((await start(t)).url)
      seen[name] = run.seen
      t.match(run.seen.refusal, /^429 .*database space exceeded/, `refused after ${run.fitted} puts of 64 KiB`)
      if (name !== 'etcdgw') return
      t.ok(run.fitted <= TWICE_THE_QUOTA, 'before twice the quota')
      t.equal(run.deleted, run.fitted, 'a refused put leaves nothing behind')
    })
  }
  t.same(seen.etcdgw, seen.etcd, 'etcdgw as etcd')
}
