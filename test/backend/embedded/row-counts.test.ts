import t from 'tap'
import { RowCounts } from '../../../src/backend/embedded/row-counts.js'

t.test('rows after a revision, within the window', async (t) => {
  const counts = new RowCounts()
  counts.record(2, 3)
  counts.record(3, 1)
  counts.record(3, 1) // a revision recorded row by row, as at start-up
  counts.record(6, 4) // revisions 4 and 5 left no rows (compacted away)
  t.equal(counts.after(1), 9)
  t.equal(counts.after(2), 6)
  t.equal(counts.after(3), 4)
  t.equal(counts.after(5), 4)
  t.equal(counts.after(6), 0)
  t.equal(counts.after(99), 0, 'nothing after the newest')
})

t.test('revisions older than the window are unknown', async (t) => {
  const counts = new RowCounts()
  counts.record(10, 1)
  counts.record(10 + 70_000, 2) // a jump past the window, as after a long compacted history
  t.equal(counts.after(10), undefined)
  t.equal(counts.after(10 + 70_000 - 1), 2)
  for (let rev = 70_011; rev <= 140_000; rev++) counts.record(rev, 1)
  t.equal(counts.after(140_000 - 65_535), 65_535, 'the oldest revision the window holds')
  t.equal(counts.after(140_000 - 65_536), undefined, 'one older')
})
