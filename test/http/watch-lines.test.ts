/**
 * Watch event lines: the watchers of one events array share their encoding. Large events are one tail
 * shared by every watcher whatever its watch id, after a head of each line's own; head and tail
 * together are exactly the line a whole encoding gives.
 */
import t from 'tap'
import type { Event, WatchResponse } from '../../src/backend/backend.js'
import { base64Codec, utf8Codec } from '../../src/http/codec/bytes-codec.js'
import { encoders } from '../../src/http/codec/codecs.js'
import { lineLength, type StreamLine } from '../../src/http/codec/envelope.js'
import { SHARED_TAIL_BYTES, watchResultLine } from '../../src/http/codec/watch.js'

const header = { clusterId: 1n, memberId: 2n, revision: 9, raftTerm: 3 }
const eventsOf = (value: Buffer): Event[] => [
  { type: 0, kv: { key: Buffer.from('k'), value, createRevision: 2, modRevision: 9, version: 4, lease: 0n } },
]
const response = (events: Event[], watchId: number, fragment = false): WatchResponse => ({
  header, watchId, events, created: false, canceled: false, compactRevision: 0, cancelReason: '', fragment,
})
const joined = (line: StreamLine) => (Buffer.isBuffer(line) ? line : Buffer.concat([line.head, line.tail])).toString()

t.test('large events: one shared tail, a head per line, the same bytes as a whole encoding', async (t) => {
  for (const codec of [base64Codec, utf8Codec]) {
    const events = eventsOf(Buffer.alloc(16 * 1024, 'v'))
    const lines = [0, 7, 123456].map((id) => watchResultLine(response(events, id, id === 7), codec))
    for (const [i, line] of lines.entries()) {
      t.notOk(Buffer.isBuffer(line), 'split')
      const r = response(events, [0, 7, 123456][i]!, i === 1)
      t.equal(joined(line), `{"result":${encoders.WatchResponse(r, codec)}}\n`)
      t.equal(lineLength(line), Buffer.byteLength(joined(line)))
    }
    const tails = lines.map((l) => (Buffer.isBuffer(l) ? undefined : l.tail))
    t.ok(tails.every((tail) => tail === tails[0]), 'every watch id shares the one tail')
    t.equal(tails[0]!.buffer.byteLength, tails[0]!.length, 'which holds no more memory than its bytes')
    t.ok(tails[0]!.length > 16 * 1024)
  }
})

t.test('small events: one whole line per watch id, shared by the watchers with that id', async (t) => {
  const events = eventsOf(Buffer.from('small'))
  const first = watchResultLine(response(events, 3))
  t.ok(Buffer.isBuffer(first) && first.length < SHARED_TAIL_BYTES)
  t.equal(watchResultLine(response(events, 3)), first, 'the same Buffer again')
  t.equal(joined(first), `{"result":${encoders.WatchResponse(response(events, 3), base64Codec)}}\n`)
  const other = watchResultLine(response(events, 4))
  t.equal(joined(other), `{"result":${encoders.WatchResponse(response(events, 4), base64Codec)}}\n`)
})
