/** The store's write-ahead log on its own: records read back after a reopen, torn and stale ones passed over, gaps refused. */
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { RECORD_HEADER_BYTES } from '../../../src/backend/embedded/logged-writes.js'
import { frameRecord, WriteAheadLog } from '../../../src/backend/embedded/write-ahead-log.js'
import { Errors } from '../../../src/errors.js'
import { tempDir } from '../../helpers/temp-dir.js'

/** Small segments, so that a few records fill one. */
const SEGMENT = 4096

/** A framed record of batch `seq` whose body is `bytes` bytes of the batch's number. */
function record(seq: number, bytes = 100): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_BYTES + bytes, seq % 251)
  return frameRecord(b, seq)
}

function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.startsWith('wal-'))
    .sort()
}

async function write(dir: string, after: number, seqs: Iterable<number>, opts: { releaseLag?: number; bytes?: number } = {}) {
  const { log, records } = WriteAheadLog.open(dir, after, SEGMENT)
  log.start()
  for (const seq of seqs) {
    await log.append(seq, record(seq, opts.bytes))
    if (opts.releaseLag !== undefined) log.release(seq - opts.releaseLag)
  }
  await log.close()
  return records
}

function reopened(dir: string, after: number): number[] {
  // never started: it has nothing in the background
  const { records } = WriteAheadLog.open(dir, after, SEGMENT)
  for (const r of records) if (!r.body.equals(record(r.seq, r.body.length).subarray(RECORD_HEADER_BYTES))) throw new Error(`batch ${r.seq} read back altered`)
  return records.map((r) => r.seq)
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('records are read back after a reopen, in order, from the batch after the one the store file holds', async (t) => {
  const dir = tempDir(t, 'etcdgw-wal-')
  await write(dir, 0, range(1, 100))
  t.ok(segments(dir).length > 2, `the records fill ${segments(dir).length} segments of ${SEGMENT} bytes`)
  t.same(reopened(dir, 0), range(1, 100), 'all of them')
  t.same(reopened(dir, 60), range(61, 100), 'those after batch 60')
  t.same(reopened(dir, 100), [], 'none after the last')
  for (const name of segments(dir)) t.equal(statSync(join(dir, name)).size, SEGMENT, `${name} keeps its size`)
})

t.test('a record cut short or altered ends what is read: the batches before it are kept', async (t) => {
  const dir = tempDir(t, 'etcdgw-wal-')
  await write(dir, 0, range(1, 5))
  const [first] = segments(dir)
  const path = join(dir, first!)
  const recordBytes = RECORD_HEADER_BYTES + 100
  // a torn write of batch 6: its header and part of its body
  const torn = record(6).subarray(0, RECORD_HEADER_BYTES + 40)
  const fd = openSync(path, 'r+')
  writeSync(fd, torn, 0, torn.length, 5 * recordBytes)
  closeSync(fd)
  t.same(reopened(dir, 0), range(1, 5), 'a torn last record is passed over')
  // one flipped byte in batch 4's body
  const data = readFileSync(path)
  const fd2 = openSync(path, 'r+')
  writeSync(fd2, Buffer.from([data[3 * recordBytes + RECORD_HEADER_BYTES + 7]! ^ 1]), 0, 1, 3 * recordBytes + RECORD_HEADER_BYTES + 7)
  closeSync(fd2)
  t.same(reopened(dir, 0), range(1, 3), 'an altered record ends the segment')
  t.same(reopened(dir, 3), [], 'so nothing after batch 3 is read')
})

t.test('segments reused after the store file holds their batches: their earlier records are never read again', async (t) => {
  const dir = tempDir(t, 'etcdgw-wal-')
  // each release lets the log reuse the segments before: a few segments carry 2,000 batches
  await write(dir, 0, range(1, 2000), { releaseLag: 10 })
  const names = segments(dir)
  t.ok(names.length <= 5, `${names.length} segments on disk`)
  t.same(reopened(dir, 1990), range(1991, 2000), 'the batches not yet released')
  t.same(reopened(dir, 2000), [], 'none after the last, though the reused segments hold older ones')
  // a start after the store file took them: the log goes on, and the old records stay unread
  await write(dir, 2000, range(2001, 2003))
  t.same(reopened(dir, 2000), range(2001, 2003), 'the next run appends after them')
})

t.test('a record larger than a segment gets a segment of its own size, removed once the store file holds it', async (t) => {
  const dir = tempDir(t, 'etcdgw-wal-')
  await write(dir, 0, [1, 2], { bytes: 100 })
  await write(dir, 2, [3], { bytes: 3 * SEGMENT })
  const large = () => segments(dir).filter((name) => statSync(join(dir, name)).size !== SEGMENT)
  t.same(reopened(dir, 2), [3], 'read back')
  t.equal(large().length, 1, 'from a segment of its own')
  await write(dir, 3, [4], { bytes: 100 })
  t.same(reopened(dir, 3), [4], 'the next batch follows it')
  t.same(large(), [], 'and the large segment is gone once a start found the store file holding it')
})

t.test('a gap before later records is refused: batches acknowledged would be missing', async (t) => {
  const dir = tempDir(t, 'etcdgw-wal-')
  await write(dir, 0, range(1, 3))
  // batch 4 lost, batch 5 present (only a damaged log can look like this)
  const { log } = WriteAheadLog.open(dir, 3, SEGMENT)
  log.start()
  await log.append(5, record(5))
  await log.close()
  t.throws(() => WriteAheadLog.open(dir, 3, SEGMENT), { code: Errors.logDamaged.code, message: /has no record of batch 4 but has later ones/ })
  t.same(reopened(dir, 4), [5], 'from batch 5 on it reads')
})
