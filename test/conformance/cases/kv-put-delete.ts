import type { ConformanceCase } from '../case.js'
import { b64, del, prefixEnd, put, range, rangeAll, seed, step } from './requests.js'

const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

export const putCases: ConformanceCase[] = [
  { name: 'put/first write is revision 2', steps: [put('foo', 'bar'), range('foo')] },
  { name: 'put/overwrite bumps version', steps: [put('foo', 'bar'), put('foo', 'baz'), put('foo', 'qux'), range('foo')] },
  { name: 'put/prev_kv on a new key', steps: [put('foo', 'bar', { prev_kv: true })] },
  { name: 'put/prev_kv on an existing key', steps: [put('foo', 'bar'), put('foo', 'baz', { prev_kv: true })] },
  { name: 'put/prev_kv false', steps: [put('foo', 'bar'), put('foo', 'baz', { prev_kv: false })] },
  { name: 'put/empty value', steps: [put('foo', ''), range('foo'), put('foo', '', { prev_kv: true })] },
  { name: 'put/value omitted', steps: [step('/v3/kv/put', `{"key":"${b64('foo')}"}`), range('foo')] },
  { name: 'put/empty key', steps: [step('/v3/kv/put', `{"key":"","value":"${b64('x')}"}`)] },
  { name: 'put/key omitted', steps: [step('/v3/kv/put', `{"value":"${b64('x')}"}`)] },
  { name: 'put/binary key and value', steps: [put(everyByte, everyByte), rangeAll()] },
  { name: 'put/key of one zero byte', steps: [put(Buffer.from([0]), 'z'), range(Buffer.from([0]))] },
  { name: 'put/utf-8 key', steps: [put('ключ/🔑', 'значение'), range('ключ/🔑')] },
  { name: 'put/long key', steps: [put('k'.repeat(10_000), 'v'), range('k'.repeat(10_000), { keys_only: true })] },
  { name: 'put/big value', steps: [put('big', 'x'.repeat(1_000_000)), range('big', { count_only: true })] },
  { name: 'put/ignore_value keeps the value', steps: [put('foo', 'bar'), put('foo', '', { ignore_value: true }), range('foo')] },
  { name: 'put/ignore_value with prev_kv', steps: [put('foo', 'bar'), put('foo', '', { ignore_value: true, prev_kv: true })] },
  { name: 'put/ignore_value on a missing key', steps: [put('foo', '', { ignore_value: true })] },
  { name: 'put/ignore_value with a value', steps: [put('foo', 'bar'), put('foo', 'baz', { ignore_value: true })] },
  { name: 'put/ignore_lease on an existing key', steps: [put('foo', 'bar'), put('foo', 'baz', { ignore_lease: true }), range('foo')] },
  { name: 'put/ignore_lease on a missing key', steps: [put('foo', 'bar', { ignore_lease: true })] },
  { name: 'put/ignore_lease with a lease', steps: [put('foo', 'bar'), put('foo', 'baz', { ignore_lease: true, lease: 5 })] },
  { name: 'put/ignore_value and ignore_lease', steps: [put('foo', 'bar'), put('foo', '', { ignore_value: true, ignore_lease: true }), range('foo')] },
  { name: 'put/unknown lease', steps: [put('foo', 'bar', { lease: 12345 }), range('foo')] },
  { name: 'put/unknown lease as a string', steps: [put('foo', 'bar', { lease: '7587868846556848013' })] },
  { name: 'put/negative lease', steps: [put('foo', 'bar', { lease: -1 })] },
  { name: 'put/lease 0 is no lease', steps: [put('foo', 'bar', { lease: 0 }), range('foo')] },
  { name: 'put/failed put writes nothing', steps: [put('foo', '', { ignore_value: true }), put('bar', 'x'), rangeAll()] },
]

export const deleteCases: ConformanceCase[] = [
  { name: 'deleterange/single key', steps: [...seed, del('b'), rangeAll()] },
  { name: 'deleterange/missing key', steps: [...seed, del('zz')] },
  { name: 'deleterange/empty store', steps: [del('a')] },
  { name: 'deleterange/prefix', steps: [...seed, del('a', { range_end: prefixEnd('a') }), rangeAll()] },
  { name: 'deleterange/prev_kv single', steps: [...seed, del('a', { prev_kv: true })] },
  { name: 'deleterange/prev_kv range', steps: [...seed, del('ab', { range_end: b64('c'), prev_kv: true })] },
  { name: 'deleterange/prev_kv on a missing key', steps: [...seed, del('zz', { prev_kv: true })] },
  { name: 'deleterange/range_end AA==', steps: [...seed, del('b', { range_end: 'AA==' }), rangeAll()] },
  { name: 'deleterange/whole keyspace', steps: [...seed, del('\0', { range_end: 'AA==', prev_kv: true }), rangeAll()] },
  { name: 'deleterange/range_end below key', steps: [...seed, del('c', { range_end: b64('a') })] },
  { name: 'deleterange/empty key', steps: [...seed, step('/v3/kv/deleterange', '{"key":""}')] },
  { name: 'deleterange/no key', steps: [...seed, step('/v3/kv/deleterange', '{}')] },
  {
    name: 'deleterange/history stays readable',
    steps: [...seed, del('a'), range('a', { revision: 9 }), range('a'), put('a', 'again'), range('a')],
  },
  { name: 'deleterange/delete twice', steps: [...seed, del('b'), del('b')] },
]
