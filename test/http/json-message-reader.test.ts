import t from 'tap'
import { type EtcdError, Errors } from '../../src/errors.js'
import { type JsonValue, readValueAt, ValueInParts } from '../../src/http/codec/json.js'
import { JsonMessageReader, READ_AT_ONCE_BYTES, type ReadResult } from '../../src/http/stream/json-message-reader.js'

const tooLarge = (size: number) => Errors.messageTooLarge(size, 1000)

/** A value as the reader hands it over, read to its end. */
const whole = (v: JsonValue | ValueInParts): JsonValue => (v instanceof ValueInParts ? v.readOn(Infinity)! : v)

/** What successive json.Decoder.Decode calls give for the whole text: the values, then the error. */
function decodeAll(text: string): { values: JsonValue[]; error?: string } {
  const values: JsonValue[] = []
  let pos = 0
  try {
    for (;;) {
      const next = readValueAt(text, pos)
      if (next === undefined) return { values }
      values.push(next.value)
      pos = next.end
    }
  } catch (err) {
    return { values, error: (err as EtcdError).message }
  }
}

/** The reader fed `text` cut at `cuts`, then ended. */
function read(text: string, cuts: number[]): { values: JsonValue[]; error?: string } {
  const reader = new JsonMessageReader(1 << 20, tooLarge)
  const values: JsonValue[] = []
  const take = (r: ReadResult) => {
    values.push(...r.values.map(whole))
    return r.error?.message
  }
  let from = 0
  for (const to of [...cuts, text.length]) {
    const error = take(reader.push(Buffer.from(text.slice(from, to), 'latin1')))
    if (error !== undefined) return { values, error }
    from = to
  }
  const error = take(reader.end())
  return error === undefined ? { values } : { values, error }
}

const streams = [
  '{"a":1}{"b":[true,false,null]} {"c":"x\\u0041\\n"}\n-12.5e+3 0 7',
  '01 1x',
  '{"a":-0.5E-7,"b":{}}[] "s"',
  'x',
  '{"key" "Zm9v"}',
  '{key:1}',
  '{"key":"Zm9v",}',
  '{"key":"Zm9v"]',
  '{"key":tru}',
  '{"key":nulL}',
  '{"key":"\\x"}',
  '{"key":"\\u12"}',
  '{"key":01}',
  '{"key":-a}',
  '{"key":1.}',
  '{"key":1e+}',
  '{"key":"ab\nc"}',
  '{"x":[1,]}',
  '{"x":[1 2]}',
  '{"x":\xc2\xa0}',
  '{"a":1}}',
  '{"key":"Zm9v",',
  'tru',
  '-',
  '{"a":1} {"b":',
]

t.test('values and errors are those of json.Decoder, however the stream is cut', async (t) => {
  for (const text of streams) {
    const want = decodeAll(text)
    t.same(read(text, []), want, `whole: ${JSON.stringify(text.slice(0, 40))}`)
    if (text.length > 100) continue
    for (let cut = 1; cut < text.length; cut++) t.same(read(text, [cut]), want, `cut at ${cut}: ${JSON.stringify(text)}`)
    t.same(read(text, [...text].map((_, i) => i + 1).slice(0, -1)), want, `byte by byte: ${JSON.stringify(text)}`)
  }
})

t.test('nesting: 10000 levels are read, one more fails as json.Decoder fails', async (t) => {
  const deep = read('['.repeat(10000) + ']'.repeat(10000), [5000, 15000])
  t.same([deep.values.length, deep.error], [1, undefined])
  t.same(read('['.repeat(10001), [5000]), decodeAll('['.repeat(10001)))
})

t.test('a value arriving in many pieces is read once: linear time', async (t) => {
  const reader = new JsonMessageReader(4 << 20, tooLarge)
  const started = process.cpuUsage()
  t.same(reader.push(Buffer.from('{"create_request":{"key":"eA==","filters":[')).values, [])
  const piece = Buffer.from('0,'.repeat(500))
  for (let i = 0; i < 1000; i++) t.equal(reader.push(piece).values.length, 0)
  const { values } = reader.push(Buffer.from('0]}}'))
  const used = process.cpuUsage(started)
  t.equal(values.length, 1)
  // a re-read of everything buffered at each piece takes tens of seconds here
  t.ok(used.user + used.system < 1_000_000, `${Math.round((used.user + used.system) / 1000)} ms of CPU`)
})

t.test('a value still arriving fails as soon as it outgrows the limit', async (t) => {
  const reader = new JsonMessageReader(1000, tooLarge)
  t.same(reader.push(Buffer.from('{"key":"' + 'a'.repeat(900))), { values: [] })
  const r = reader.push(Buffer.from('a'.repeat(200)))
  t.equal(r.error?.message, 'grpc: received message larger than max (1108 vs. 1000)')
  t.same(reader.push(Buffer.from(' {"a":1}')).values.length, 1, 'reading starts afresh after it')
})

t.test('a value of more than READ_AT_ONCE_BYTES is handed over unread, and reads to the same value', async (t) => {
  const array = (bytes: number) => `[${'1,'.repeat((bytes - 3) / 2)}1]`
  const reader = new JsonMessageReader(4 << 20, tooLarge)
  for (const bytes of [READ_AT_ONCE_BYTES - 1, READ_AT_ONCE_BYTES + 1]) {
    const text = array(bytes)
    t.equal(text.length, bytes)
    const { values } = reader.push(Buffer.from(`${text.slice(0, 100)}`))
    t.same(values, [])
    const [v] = reader.push(Buffer.from(`${text.slice(100)} `)).values
    t.equal(v instanceof ValueInParts, bytes > READ_AT_ONCE_BYTES, `${bytes} bytes`)
    t.same(whole(v!), readValueAt(text, 0)!.value)
  }
})
