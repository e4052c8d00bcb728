/** A keepalive stream cannot queue requests without bound: past the limit it fails with etcd's "too many requests". */
import t from 'tap'
import { MAX_PENDING_KEEPALIVES } from '../../src/http/keepalive-session.js'
import { KeepAliveSession } from '../../src/http/keepalive-session.js'
import { EtcdError, GrpcCode } from '../../src/errors.js'
import { startOurs } from './helpers/servers.js'
import { openStream, post } from './helpers/stream-clients.js'

// a WebSocket stream failure is reported as the gateway reports a stream that fails to start: code 2
const tooMany = '{"error":"etcdserver: too many requests","message":"etcdserver: too many requests","code":2}'

t.test('keepalive requests beyond the bound fail the stream', async (t) => {
  const ours = await startOurs(t)
  t.equal((await post(ours.url, '/v3/lease/grant', '{"TTL":60,"ID":77}')).status, 200)
  const burst = (n: number) => '{"ID":77}'.repeat(n)
  // One WebSocket frame reaches the session in one go; an HTTP body arrives in chunks that the
  // server may answer in between, so only the WebSocket burst is sure to hit the bound.
  for (const transport of ['ws'] as const) {
    const within = await openStream(transport, ours.url, '/v3/lease/keepalive')
    within.send(burst(MAX_PENDING_KEEPALIVES))
    within.endRequest()
    const answers = await within.waitFor(MAX_PENDING_KEEPALIVES, 20_000)
    t.equal(answers.length, MAX_PENDING_KEEPALIVES, `${transport}: ${MAX_PENDING_KEEPALIVES} queued requests are all answered`)
    t.ok(answers.every((m) => m.includes('"TTL":"60"')), `${transport}: each answer is a renewal`)
    within.close()

    const beyond = await openStream(transport, ours.url, '/v3/lease/keepalive')
    beyond.send(burst(MAX_PENDING_KEEPALIVES + 1))
    beyond.endRequest()
    const got = await beyond.waitFor(1)
    t.strictSame(got, [tooMany], `${transport}: one more fails the stream with etcd's message`)
    t.ok(await beyond.closed, `${transport}: the stream ends`)
    beyond.close()
  }
})

t.test('the session fails with ResourceExhausted, whatever the transport', async (t) => {
  const ours = await startOurs(t)
  const lease = ours.backend().lease
  await lease.grant({ ttl: 60, id: 78n })
  const sent: Buffer[] = []
  const errors: EtcdError[] = []
  const session = new KeepAliveSession(lease, { send: (l) => void sent.push(l), bufferedBytes: () => 0 }, (e) => void errors.push(e))
  for (let i = 0; i <= MAX_PENDING_KEEPALIVES; i++) session.request(78n)
  t.equal(errors.length, 1, 'failed once')
  t.equal(errors[0]?.grpcCode, GrpcCode.ResourceExhausted)
  t.equal(errors[0]?.message, 'etcdserver: too many requests')
  await session.drained()
  t.equal(sent.length, 0, 'nothing queued is answered after the failure')
})
