import t from 'tap'
import { CountedTree } from '../../../src/backend/embedded/counted-tree.js'
import { seededRandom, testSeed } from '../../helpers/seeded-random.js'

const seed = testSeed('COUNTED_TREE_SEED')

interface Entry {
  live: boolean
}

t.test(`inserts, deletes and liveness changes keep order and counts (COUNTED_TREE_SEED=${seed})`, async (t) => {
  const rnd = seededRandom(seed)
  const tree = new CountedTree<Entry>((e) => e.live)
  const model = new Map<string, Entry>()
  // enough keys for a tree three levels deep, deleted in bulk so that nodes merge
  const keyOf = (n: number) => `k${n.toString(36).padStart(4, '0')}`
  const randomKey = () => keyOf(Math.floor(rnd() * 12_000))
  const check = (label: string) => {
    const sorted = [...model.keys()].sort()
    t.equal(tree.size, model.size, `${label}: size`)
    const visited: string[] = []
    tree.forEachFrom('', (k) => {
      visited.push(k)
    })
    t.same(visited, sorted, `${label}: every key in order`)
    for (let i = 0; i < 50; i++) {
      const a = randomKey()
      const b = rnd() < 0.2 ? '' : randomKey()
      const want = sorted.filter((k) => k >= a && (b === '' || k < b) && model.get(k)!.live).length
      if (tree.countLive(a, b) !== want) t.fail(`${label}: count [${a}, ${b})`, { found: tree.countLive(a, b), wanted: want })
    }
    const from = randomKey()
    const tail: string[] = []
    tree.forEachFrom(from, (k) => {
      tail.push(k)
      return tail.length < 10
    })
    t.same(tail, sorted.filter((k) => k >= from).slice(0, 10), `${label}: ten keys from ${from}`)
  }
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 8000; i++) {
      const k = randomKey()
      const e = model.get(k)
      if (!e) {
        const entry = { live: rnd() < 0.7 }
        model.set(k, entry)
        tree.insert(k, entry)
      } else if (rnd() < 0.5) {
        e.live = !e.live
        tree.adjust(k, e.live ? 1 : -1)
      }
    }
    check(`round ${round} after inserts`)
    for (const k of [...model.keys()]) {
      if (rnd() < 0.6) {
        model.delete(k)
        if (!tree.delete(k)) t.fail(`delete ${k}`)
      }
    }
    t.notOk(tree.delete('absent'), 'a key that is not there')
    check(`round ${round} after deletes`)
  }
  for (const k of [...model.keys()]) tree.delete(k)
  t.equal(tree.size, 0)
  t.equal(tree.live, 0, 'nothing live once empty')
})

t.test('a tree built from sorted entries counts, finds and changes as one built by inserts', async (t) => {
  for (const size of [0, 1, 47, 48, 49, 2304, 2305, 120_000]) {
    const keys = Array.from({ length: size }, (_, i) => `k${String(i).padStart(6, '0')}`)
    const built = CountedTree.fromSorted<Entry>((e) => e.live, keys, keys.map((_, i) => ({ live: i % 3 !== 0 })))
    const wanted = keys.filter((_, i) => i % 3 !== 0).length
    t.equal(built.size, size, `${size}: size`)
    t.equal(built.countLive('', ''), wanted, `${size}: live`)
    t.equal(built.get(keys[size >> 1] ?? 'x')?.live, size === 0 ? undefined : (size >> 1) % 3 !== 0, `${size}: get`)
    t.equal(built.get('missing'), undefined)
    const visited: string[] = []
    built.forEachFrom('', (k) => {
      visited.push(k)
    })
    t.same(visited, keys, `${size}: every key in order`)
    for (const k of keys.filter((_, i) => i % 2 === 0)) built.delete(k)
    built.insert('k', { live: true })
    t.equal(built.countLive('', ''), keys.filter((_, i) => i % 3 !== 0 && i % 2 !== 0).length + 1, `${size}: live after deletes and an insert`)
  }
})
