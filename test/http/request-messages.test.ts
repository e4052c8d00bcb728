import t from 'tap'
import { EventEmitter } from 'node:events'
import type { WebSocket } from 'ws'
import type { JsonValue } from '../../src/http/codec/json.js'
import { JsonObject } from '../../src/http/codec/json.js'
import { RequestLimits } from '../../src/http/rpc.js'
import type { MessageSink } from '../../src/http/stream/message-sink.js'
import { readWsRequestMessages } from '../../src/http/stream/request-messages.js'
import { SendBudget } from '../../src/http/stream/send-budget.js'
import { TurnTaking } from '../../src/turn-taking.js'

/** The side of a WebSocket the reader uses: its 'message' events, pause and resume. */
class FrameSource extends EventEmitter {
  paused = false
  pause() {
    this.paused = true
  }
  resume() {
    this.paused = false
  }
}

const sink: MessageSink = { send() {}, bufferedBytes: () => 0, onDrain: (fn) => fn() }
const limits = { requests: new RequestLimits(8 << 20), sendBufferBytes: 1 << 20, budget: new SendBudget(1 << 30), largeMessages: new TurnTaking() }

t.test('a large message is read a part per turn of the event loop, and keeps its place among the others', async (t) => {
  const source = new FrameSource()
  const seen: string[] = []
  let largeElements = 0
  let done!: () => void
  const allSeen = new Promise<void>((resolve) => (done = resolve))
  readWsRequestMessages(source as unknown as WebSocket, sink, limits, {
    message: (v: JsonValue) => {
      const [name] = (v as JsonObject).names
      seen.push(name!)
      if (name === 'large') largeElements = ((v as JsonObject).get('large') as JsonValue[]).length
      if (name === 'last') done()
    },
    firstError: (err) => t.fail(err.message),
    laterError: (err) => t.fail(err.message),
  })
  // 1,000,012 bytes: 16 parts of 64 KiB
  for (const frame of ['{"first":1}', `{"large":[${'0,'.repeat(499_999)}0]}`, '{"last":2}']) source.emit('message', Buffer.from(frame))
  t.same(seen, ['first'], 'the message before it is handled at once')
  t.ok(source.paused, 'the socket is not read meanwhile')
  const tick = () => {
    if (seen.includes('last')) return
    seen.push('tick')
    setImmediate(tick)
  }
  setImmediate(tick)
  await allSeen
  const ticksBefore = seen.indexOf('large') - 1
  t.ok(ticksBefore >= 10, `other work ran in ${ticksBefore} turns while it was read`)
  t.same(seen.filter((s) => s !== 'tick'), ['first', 'large', 'last'])
  t.equal(largeElements, 500_000)
  t.notOk(source.paused, 'read again once it is handled')
})

t.test('large messages of several streams are read one after the other, not side by side', async (t) => {
  const seen: string[] = []
  const handled = ['a', 'b'].map((name) => {
    const source = new FrameSource()
    const done = new Promise<void>((resolve) => {
      readWsRequestMessages(source as unknown as WebSocket, sink, limits, {
        message: () => {
          seen.push(name)
          resolve()
        },
        firstError: (err) => t.fail(err.message),
        laterError: (err) => t.fail(err.message),
      })
    })
    source.emit('message', Buffer.from(`[${'0,'.repeat(499_999)}0]`))
    return done
  })
  let ticking = true
  const tick = () => {
    if (!ticking) return
    seen.push('tick')
    setImmediate(tick)
  }
  setImmediate(tick)
  await Promise.all(handled)
  ticking = false
  const [a, b] = [seen.indexOf('a'), seen.indexOf('b')]
  t.ok(a >= 10 && b - a >= 10, `the second began once the first was whole: turns ${a} and ${b}`)
})
