/** The page buffers a snapshot stream reuses: back for reuse once every hold is let go, zeroed, and no more kept than asked. */
import t from 'tap'
import { ReusedBuffers } from '../../src/snapshot/reused-buffers.js'

t.test('a buffer is taken again only once the taker and every view held have let go, and comes back zeroed', async (t) => {
  const buffers = new ReusedBuffers(64, 2)
  const a = buffers.take(64)
  a.fill(7)
  const view = a.subarray(16, 32)
  buffers.hold(view)
  buffers.release(a)
  const b = buffers.take(64)
  t.not(b.buffer, a.buffer, 'still held by a view: a new buffer')
  buffers.release(view)
  const c = buffers.take(64)
  t.equal(c.buffer, a.buffer, 'let go by all: reused')
  t.same([...c], new Array(64).fill(0), 'zeroed')
  t.same([...view], new Array(16).fill(0), 'so a view kept after its release would see other bytes: hold what you keep')
  buffers.release(b)
  buffers.release(c)
})

t.test('views of buffers not taken here, and buffers larger than the size, are never reused', async (t) => {
  const buffers = new ReusedBuffers(64, 2)
  const other = Buffer.alloc(64)
  buffers.hold(other)
  buffers.release(other)
  const big = buffers.take(100)
  t.equal(big.length, 100)
  buffers.release(big)
  const next = buffers.take(64)
  t.not(next.buffer, other.buffer)
  t.not(next.buffer, big.buffer)
})

t.test('no more buffers are kept for reuse than asked', async (t) => {
  const buffers = new ReusedBuffers(64, 2)
  const taken = [buffers.take(64), buffers.take(64), buffers.take(64)]
  for (const b of taken) buffers.release(b)
  const again = [buffers.take(64), buffers.take(64), buffers.take(64)].map((b) => b.buffer)
  t.equal(again.filter((b) => taken.some((x) => x.buffer === b)).length, 2, 'two reused, the third new')
})
