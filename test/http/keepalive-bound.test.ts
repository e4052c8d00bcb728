/**
 * A keepalive stream answers its requests one at a time, as etcd's does: a burst of any size in one
 * frame or body is answered in full and in order, with no queue of pending renewals behind it.
 */
import t from 'tap'
import { startOurs } from '../helpers/servers.js'
import { openStream, post } from '../helpers/stream-clients.js'

t.test('a burst of keepalive requests is answered in full, in order, on both transports', async (t) => {
  const ours = await startOurs(t)
  for (const id of [77, 78]) t.equal((await post(ours.url, '/v3/lease/grant', `{"TTL":60,"ID":${id}}`)).status, 200)
  const count = 10_001
  const burst = Array.from({ length: count }, (_, i) => `{"ID":${i % 2 === 0 ? 77 : 78}}`).join('')
  for (const transport of ['ws', 'http'] as const) {
    const stream = await openStream(transport, ours.url, '/v3/lease/keepalive')
    stream.send(burst)
    stream.endRequest()
    const answers = await stream.waitFor(count, 20_000)
    t.equal(answers.length, count, `${transport}: every request answered`)
    t.ok(answers.every((m, i) => m.includes(`"ID":"${i % 2 === 0 ? 77 : 78}","TTL":"60"`)), `${transport}: each answer is its request's renewal, in order`)
    if (transport === 'http') t.equal(await stream.closed, 'end', 'http: the stream ends with its body once all are answered')
    stream.close()
  }
})
