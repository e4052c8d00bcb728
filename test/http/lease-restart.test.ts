/** Leases and their keys across a restart, next to real etcd restarted the same way. */
import t from 'tap'
import { etcdMissing, startOurs, startRealEtcd, type Server } from '../helpers/servers.js'
import { b64, normalize, post } from '../helpers/stream-clients.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const ttlOf = (body: string) => JSON.parse(body) as { TTL?: string; grantedTTL?: string; keys?: string[] }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('after a restart a lease has its full TTL again (about +1 s), keeps its keys, then expires', async (t) => {
  const servers: Server[] = await Promise.all([startRealEtcd(t), startOurs(t)])
  const both = (path: string, body: unknown) => Promise.all(servers.map((s) => post(s.url, path, JSON.stringify(body))))
  await both('/v3/lease/grant', { ID: 77, TTL: 4 })
  await both('/v3/kv/put', { key: b64('r/a'), value: b64('v'), lease: 77 })
  await both('/v3/kv/put', { key: b64('r/b'), value: b64('v'), lease: 77 })
  await sleep(2_000)
  // each server is asked right after its own restart: under load one can come back seconds before the other
  const askedAt: number[] = []
  const [e, o] = await Promise.all(
    servers.map(async (s, i) => {
      await s.restart()
      askedAt[i] = Date.now()
      return post(s.url, '/v3/lease/timetolive', JSON.stringify({ ID: 77, keys: true }))
    }),
  )
  const et = ttlOf(e!.body)
  const ot = ttlOf(o!.body)
  t.equal(ot.grantedTTL, et.grantedTTL)
  // etcd lists a lease's keys in map order
  t.strictSame([...(ot.keys ?? [])].sort(), [...(et.keys ?? [])].sort())
  t.ok(Math.abs(Number(ot.TTL) - Number(et.TTL)) <= 1, `remaining TTL: etcd ${et.TTL}, etcdgw ${ot.TTL}`)
  t.ok(Number(ot.TTL) >= 3, 'the full TTL again, not what was left before the restart')
  // Then each server revokes it: etcd took 6–8 s after its restart on this machine (TTL, +1 s, then its
  // revoke loop), so each is polled until the lease is gone. It cannot go before the whole seconds it had
  // left when first asked: counted from there, not from when the server was seen ready (under load, etcd's
  // /health can answer a second or more after its leases started counting down again).
  const left = [et, ot].map((a) => Number(a.TTL))
  const expiredAfter = await Promise.all(
    servers.map(async (s, i) => {
      for (;;) {
        const r = await post(s.url, '/v3/lease/timetolive', JSON.stringify({ ID: 77 }))
        if (ttlOf(r.body).TTL === '-1') return (Date.now() - askedAt[i]!) / 1000
        if (Date.now() - askedAt[i]! > 20_000) return Infinity
        await sleep(200)
      }
    }),
  )
  t.ok(
    expiredAfter.every((s, i) => s >= left[i]! && s < 20),
    `expired once the TTL it had left ran out: etcd after ${expiredAfter[0]} s (${left[0]} s left), etcdgw after ${expiredAfter[1]} s (${left[1]} s left)`,
  )
  const ranges = await both('/v3/kv/range', { key: b64('r/'), range_end: b64('r0') })
  t.equal(normalize(ranges[1]!.body), normalize(ranges[0]!.body), 'keys deleted by the expiry on both, in one revision')
})
