/** A batch's writes as the log records them: read back from the record exactly as they were written. */
import t from 'tap'
import { decodeWrites, LEASES, META, RECORD_HEADER_BYTES, REVISIONS, WriteRecorder } from '../../../src/backend/embedded/logged-writes.js'

const write = (rec: WriteRecorder) => {
  rec.put(REVISIONS, Buffer.from([0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1]), Buffer.from('a change\u0000\u00ff', 'latin1'))
  rec.put(META, 'auth', { enabled: true, revision: 3, users: [{ name: 'rööt', roles: ['r'] }], roles: [] })
  rec.put(META, 'otherEntries', 12)
  rec.put(META, 'alarms', [['15418568336331209592', 1]])
  rec.put(LEASES, Buffer.from('0000000000000007', 'hex'), 60)
  rec.remove(LEASES, Buffer.from('000000000000000b', 'hex'))
  rec.put(REVISIONS, Buffer.alloc(16, 2), Buffer.alloc(0))
}

t.test('every kind of write comes back from its record as it was recorded', async (t) => {
  const rec = new WriteRecorder()
  write(rec)
  const { writes, record } = rec.take()
  t.equal(writes.length, 7, 'the writes, as objects for lmdb')
  const decoded = decodeWrites(record.subarray(RECORD_HEADER_BYTES))
  t.same(decoded, writes, 'and from the record: tables, keys (bytes or strings), values (bytes or structured), removals')
  t.ok(Buffer.isBuffer(decoded[0]!.value) && Buffer.isBuffer(decoded[4]!.key), 'bytes come back as bytes')
})

t.test('take() starts the next batch empty, also after a batch larger than the buffer kept', async (t) => {
  const rec = new WriteRecorder()
  rec.put(REVISIONS, Buffer.alloc(16), Buffer.alloc(5 << 20, 1))
  const large = rec.take()
  t.equal(large.record.length, RECORD_HEADER_BYTES + 1 + 1 + REVISIONS.length + 4 + 16 + 4 + (5 << 20), 'a 5 MiB value recorded whole')
  write(rec)
  const next = rec.take()
  t.equal(decodeWrites(next.record.subarray(RECORD_HEADER_BYTES)).length, 7, 'the next batch holds only its own writes')
  t.equal(large.record[large.record.length - 1], 1, 'and the large record taken before is left as it was')
})
