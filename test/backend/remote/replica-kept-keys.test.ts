/** The keys a replica of some prefixes keeps, and which request ranges lie wholly inside them. */
import t from 'tap'
import { KeptKeys } from '../../../src/backend/remote/replica/kept-keys.js'
import { rangeEndOf } from '../../../src/backend/key-range.js'

const b = (s: string) => Buffer.from(s, 'latin1')
/** A range as a request gives it: no end the key alone, "\0" every key from it on. */
const covers = (kept: KeptKeys, key: string, rangeEnd = '') => kept.covers(b(key), rangeEndOf(b(rangeEnd)))

t.test('no prefixes, or an empty one: every key and every range', async (t) => {
  for (const kept of [new KeptKeys(), new KeptKeys([]), new KeptKeys([b('a/'), b('')])]) {
    t.same(kept.spans, [{ key: b('\0'), rangeEnd: b('\0') }])
    t.ok(covers(kept, 'x'))
    t.ok(covers(kept, '\0', '\0'), 'the whole keyspace')
  }
})

t.test('prefixes: disjoint spans in key order, a prefix under another dropped', async (t) => {
  const kept = new KeptKeys([b('b/'), b('a/x/'), b('a/'), b('ab')])
  t.same(
    kept.spans.map((s) => [s.key.toString('latin1'), s.rangeEnd.toString('latin1')]),
    [['a/', 'a0'], ['ab', 'ac'], ['b/', 'b0']],
  )
})

t.test('a range is served only when one kept prefix holds all of it', async (t) => {
  const kept = new KeptKeys([b('a/'), b('c/')])
  t.ok(covers(kept, 'a/k'), 'a kept key')
  t.ok(covers(kept, 'a/'), 'the prefix itself')
  t.notOk(covers(kept, 'a'), 'a key before the prefix')
  t.notOk(covers(kept, 'b/k'), 'a key of no prefix')
  t.ok(covers(kept, 'a/', 'a0'), "the prefix's range")
  t.ok(covers(kept, 'a/k', 'a/l'), 'a range inside it')
  t.notOk(covers(kept, 'a/k', 'a1'), 'a range leaving it')
  t.notOk(covers(kept, 'a/', 'c0'), 'a range over two prefixes and the keys between')
  t.notOk(covers(kept, 'a/', '\0'), 'every key from a kept one on')
  t.ok(covers(kept, 'a/k', 'a/a'), 'an empty range (end below key) inside it')
})

t.test('a prefix of 0xff bytes runs to the end of the keyspace', async (t) => {
  const kept = new KeptKeys([b('\xff')])
  t.same(kept.spans, [{ key: b('\xff'), rangeEnd: b('\0') }])
  t.ok(covers(kept, '\xff\x01', '\0'), 'every key from one under it on')
  t.notOk(covers(kept, '\xfe', '\0'))
  t.ok(kept.holds(b('\xff\xff')))
  t.notOk(kept.holds(b('z')))
})
