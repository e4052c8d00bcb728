import t from 'tap'
import { KeyIndex, type IndexedKey } from '../../../src/backend/embedded/key-index.js'

const r = (main: number, sub = 0) => ({ main, sub })

/** The keys alive at `atRev` in [from, end) ('' = to the end, undefined = just `from`), with their revisions. */
function keysAt(index: KeyIndex, atRev: number, from: string, end: string | undefined): string[] {
  const out: string[] = []
  index.range(from, end, atRev, (k: IndexedKey) => {
    out.push(`${k.key}@${k.rev.main}.${k.rev.sub}`)
  })
  return out
}

t.test('get answers as of a revision across generations', async (t) => {
  const index = new KeyIndex()
  index.put('a', r(2))
  index.put('a', r(4))
  index.tombstone('a', r(6))
  index.put('a', r(8, 1))
  t.equal(index.get('a', 1), undefined, 'before it was created')
  t.same(index.get('a', 3), r(2))
  t.same(index.get('a', 5), r(4))
  t.equal(index.get('a', 6), undefined, 'deleted at 6')
  t.equal(index.get('a', 7), undefined)
  t.same(index.get('a', 8), r(8, 1), 'a new generation')
  t.equal(index.get('missing', 8), undefined)
})

t.test('range: single key, to the end, half-open, in byte order, stopping early', async (t) => {
  const index = new KeyIndex()
  const keys = ['b', 'a', '\xff', 'ab', 'c']
  keys.forEach((k, i) => index.put(k, r(i + 2)))
  index.tombstone('c', r(9))
  t.same(keysAt(index, 9, '\0', ''), ['a@3.0', 'ab@5.0', 'b@2.0', '\xff@4.0'], 'byte order; the deleted key left out')
  t.same(keysAt(index, 6, '\0', ''), ['a@3.0', 'ab@5.0', 'b@2.0', 'c@6.0', '\xff@4.0'], 'as of an earlier revision')
  t.same(keysAt(index, 9, 'a', 'b'), ['a@3.0', 'ab@5.0'], '[a, b)')
  t.same(keysAt(index, 9, 'ab', undefined), ['ab@5.0'], 'one key')
  t.same(keysAt(index, 9, 'b', 'a'), [], 'an end before the key is empty')
  const first: string[] = []
  index.range('\0', '', 9, (k) => {
    first.push(k.key)
    return false
  })
  t.same(first, ['a'])
})

t.test('compact keeps what reads at or after the revision need', async (t) => {
  const index = new KeyIndex()
  index.put('a', r(2))
  index.put('a', r(3))
  index.put('a', r(5))
  index.put('gone', r(4))
  index.tombstone('gone', r(6))
  index.put('late', r(7))
  index.compact(6)
  t.notOk(index.has('a', r(2)), 'superseded before the compact revision')
  t.ok(index.has('a', r(5)), "the value at the compact revision is kept")
  t.notOk(index.has('gone', r(6)), 'a key deleted at or before it is dropped with its tombstone')
  t.equal(index.size, 2)
  t.same(keysAt(index, 6, '\0', ''), ['a@5.0'])
  t.same(keysAt(index, 7, '\0', ''), ['a@5.0', 'late@7.0'])
})

t.test('undo takes back puts and tombstones, last first', async (t) => {
  const index = new KeyIndex()
  index.put('k', r(2))
  index.tombstone('k', r(3))
  index.put('k', r(3, 1))
  index.undo('k')
  t.equal(index.get('k', 3), undefined, 'the put after the delete is gone')
  index.undo('k')
  t.same(index.get('k', 3), r(2), 'the delete is gone')
  index.undo('k')
  t.equal(index.size, 0, 'a key with nothing left leaves the index')
  index.undo('never')
  t.equal(index.size, 0)
})

t.test('an index loaded from saved histories answers as the original, while its map of keys fills and after', async (t) => {
  const original = new KeyIndex()
  for (let i = 0; i < 500; i++) original.put(`k${String(i).padStart(3, '0')}`, r(2 + (i >> 4), i & 15))
  for (let i = 0; i < 500; i += 7) original.tombstone(`k${String(i).padStart(3, '0')}`, r(40, i))
  for (let i = 0; i < 500; i += 5) original.put(`k${String(i).padStart(3, '0')}`, r(41, i))
  const saved: Array<[string, number[]]> = []
  original.forEachHistory(Infinity, (key, h, revisions) => {
    const revs: number[] = []
    for (let i = 0; i < revisions; i++) revs.push(h.mainAt(i), h.taggedSubAt(i))
    saved.push([key, revs])
  })
  const loaded = new KeyIndex()
  loaded.load(saved.length, (add) => {
    for (const [key, revs] of saved) add(key, revs[0]!, revs[1]!, revs.length > 2 ? revs.slice(2) : undefined)
  })
  const same = (label: string) => {
    for (let i = 0; i < 520; i += 3) {
      const k = `k${String(i).padStart(3, '0')}`
      for (const at of [20, 40, 41, 50]) {
        if (JSON.stringify(loaded.get(k, at)) !== JSON.stringify(original.get(k, at))) t.fail(`${label}: ${k} at ${at}`)
      }
    }
    t.same(keysAt(loaded, 50, '\0', ''), keysAt(original, 50, '\0', ''), `${label}: every key`)
    t.equal(loaded.countNow('', ''), original.countNow('', ''), `${label}: count`)
    t.equal(loaded.size, original.size, `${label}: size`)
  }
  same('loaded')
  let rounds = 0
  for (let done = false; !done; rounds++) {
    done = loaded.mapKeys(60)
    // writes while the map is part filled: new keys, deletes, keys dropped by undo
    for (const index of [original, loaded]) {
      index.put(`k${String(rounds * 37).padStart(3, '0')}`, r(100 + rounds))
      index.tombstone(`k${String(rounds * 53 + 1).padStart(3, '0')}`, r(100 + rounds, 1))
      index.put(`new${rounds}`, r(100 + rounds, 2))
      index.undo(`new${rounds}`)
    }
    same(`after ${rounds + 1} slices`)
  }
  t.ok(rounds > 5, `filled in ${rounds} slices`)
})
