/** The store's u64 fields: what writeU64 writes, readU64 reads back, and a field past the end throws. */
import t from 'tap'
import { readU64, writeU64 } from '../../../src/backend/embedded/u64.js'

t.test('round trip at every byte that carries', async (t) => {
  const b = Buffer.alloc(11)
  for (const n of [0, 1, 0xff, 0x1_00, 0xffff_ffff, 0x1_0000_0000, 0x1234_5678_9abc, Number.MAX_SAFE_INTEGER]) {
    writeU64(b, 3, n)
    t.equal(b.readBigUInt64BE(3), BigInt(n), `${n} written big-endian`)
    t.equal(readU64(b, 3), n, `${n} read back`)
  }
})

t.test('a field that runs past the end throws', async (t) => {
  const b = Buffer.alloc(8)
  t.equal(readU64(b, 0), 0)
  t.throws(() => readU64(b, 1), RangeError)
  t.throws(() => readU64(b.subarray(0, 7), 0), RangeError)
  t.throws(() => readU64(b, -1), RangeError)
  t.throws(() => writeU64(b, 1, 1), RangeError)
  t.throws(() => writeU64(b.subarray(0, 7), 0, 1), RangeError)
  t.throws(() => writeU64(b, -1, 1), RangeError)
  t.same([...b], [0, 0, 0, 0, 0, 0, 0, 0], 'nothing written by a write that throws')
})
