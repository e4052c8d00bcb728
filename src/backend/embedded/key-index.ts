import { CountedTree } from './counted-tree.js'
import type { Revision } from './revision.js'

/**
 * The in-memory key index, modelled on etcd's mvcc keyIndex/treeIndex: every key maps to its
 * generations of revisions; a generation ends with a tombstone (the delete's revision). Keys are held
 * as latin1 strings, whose code-unit order is the raw byte order, so the B+tree sorts like etcd.
 * The tree counts the keys alive at the newest revision per subtree, so a count there is a walk down it.
 */
type Generation = Revision[]

class KeyHistory {
  /** The last generation is the live one; it is empty when the key is currently deleted. */
  generations: Generation[] = [[]]

  put(rev: Revision): void {
    const last = this.generations.length - 1
    const g = this.generations[last]!
    // a new generation is made at its exact size: pushing onto an empty array reserves room for 17
    if (g.length === 0) this.generations[last] = [rev]
    else g.push(rev)
  }

  /** Records a delete: the tombstone closes the live generation. */
  tombstone(rev: Revision): void {
    this.put(rev)
    this.generations.push([])
  }

  /** Takes back the last put or tombstone (a write that failed before it was committed). */
  undo(): void {
    if (this.generations[this.generations.length - 1]!.length === 0 && this.generations.length > 1) this.generations.pop()
    this.generations[this.generations.length - 1]!.pop()
  }

  /** True while the key exists at the newest revision the index holds. */
  get alive(): boolean {
    return this.generations[this.generations.length - 1]!.length > 0
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.length === 0
  }

  /** The revision that holds the key's value as of `atRev`, or undefined when the key did not exist then. */
  get(atRev: number): Revision | undefined {
    const g = this.findGeneration(atRev)
    if (!g) return undefined
    for (let i = g.length - 1; i >= 0; i--) {
      if (g[i]!.main <= atRev) return g[i]
    }
    return undefined
  }

  private findGeneration(atRev: number): Generation | undefined {
    const last = this.generations.length - 1
    for (let i = last; i >= 0; i--) {
      const g = this.generations[i]!
      if (g.length === 0) continue
      // a closed generation whose tombstone is at or before atRev means the key was deleted then
      if (i !== last && g[g.length - 1]!.main <= atRev) return undefined
      if (g[0]!.main <= atRev) return g
    }
    return undefined
  }

  /** Every revision of the key (puts and tombstones) with `from` <= main <= `to`, in revision order. */
  between(from: number, to: number, out: Revision[]): void {
    for (const g of this.generations) {
      // generations and their revisions are in revision order: skip to `from`, stop past `to`
      if (g.length === 0 || g[g.length - 1]!.main < from) continue
      let lo = 0
      let hi = g.length - 1
      while (lo < hi) {
        const mid = (lo + hi) >>> 1
        if (g[mid]!.main < from) lo = mid + 1
        else hi = mid
      }
      for (let i = lo; i < g.length; i++) {
        if (g[i]!.main > to) return
        out.push(g[i]!)
      }
    }
  }

  has(rev: Revision): boolean {
    for (const g of this.generations) {
      for (const r of g) if (r.main === rev.main && r.sub === rev.sub) return true
    }
    return false
  }

  /**
   * Drops every revision that no read at or after `atRev` can see (etcd's keyIndex.compact): keeps the
   * newest revision <= atRev of the generation alive at atRev, unless that revision is a lone tombstone.
   */
  compact(atRev: number): void {
    let genIdx = 0
    let g = this.generations[0]!
    while (genIdx < this.generations.length - 1) {
      if (g[g.length - 1]!.main > atRev) break
      genIdx++
      g = this.generations[genIdx]!
    }
    let keepFrom = -1
    for (let i = g.length - 1; i >= 0; i--) {
      if (g[i]!.main <= atRev) {
        keepFrom = i
        break
      }
    }
    if (g.length > 0) {
      if (keepFrom !== -1) this.generations[genIdx] = g = g.slice(keepFrom)
      if (g.length === 1 && genIdx !== this.generations.length - 1) genIdx++
    }
    if (genIdx > 0) this.generations = this.generations.slice(genIdx)
  }
}

export interface IndexedKey {
  key: string
  rev: Revision
}

export class KeyIndex {
  /** Every key in byte order, for ranges. */
  private readonly tree = new CountedTree<KeyHistory>((h) => h.alive)
  /**
   * The same histories by key. A point lookup (every put, single-key range and compare) is a hash probe
   * instead of a walk down the tree, whose cache misses cost ~2 µs per walk at a few 100k keys.
   */
  private readonly byKey = new Map<string, KeyHistory>()

  get size(): number {
    return this.byKey.size
  }

  get(key: string, atRev: number): Revision | undefined {
    return this.byKey.get(key)?.get(atRev)
  }

  put(key: string, rev: Revision): void {
    this.change(key, (h) => h.put(rev))
  }

  /** Records a delete (a key the index does not hold yet gets one only at start-up, after a compaction). */
  tombstone(key: string, rev: Revision): void {
    this.change(key, (h) => h.tombstone(rev))
  }

  /** Takes back the key's last put or tombstone. */
  undo(key: string): void {
    if (!this.byKey.has(key)) return
    this.change(key, (h) => h.undo())
  }

  /** True when the key exists at the newest revision the index holds. */
  aliveNow(key: string): boolean {
    return this.byKey.get(key)?.alive ?? false
  }

  /** How many keys in [key, end) ('' = every key >= key) exist at the newest revision the index holds. */
  countNow(key: string, end: string): number {
    return this.tree.countLive(key, end)
  }

  /**
   * The key's revisions (puts and tombstones) from `from` to `to`, in revision order: a watch's history
   * on one key without reading any other key's rows. Compaction has removed what is below its revision.
   */
  revisions(key: string, from: number, to: number): Revision[] {
    const out: Revision[] = []
    this.byKey.get(key)?.between(from, to, out)
    return out
  }

  /**
   * Gathers into `out` the revisions from `from` to `to` of the keys in [key, end) ('' = every key >= key),
   * visiting at most `maxKeys` keys in key order (each key's revisions in revision order): a range watch's
   * history, a slice of keys at a time. `next` is the key to resume from, undefined once the range is done.
   */
  rangeRevisions(key: string, end: string, from: number, to: number, maxKeys: number, out: Revision[]): { next: string | undefined; visited: number } {
    let next: string | undefined
    let visited = 0
    this.tree.forEachFrom(key, (k, h) => {
      if (end !== '' && k >= end) return false
      if (visited === maxKeys) {
        next = k
        return false
      }
      h.between(from, to, out)
      visited++
    })
    return { next, visited }
  }

  /** True while the index still references this revision of the key (compaction keeps its row). */
  has(key: string, rev: Revision): boolean {
    return this.byKey.get(key)?.has(rev) ?? false
  }

  /**
   * Visits the keys alive at `atRev` in byte order: `end` undefined = just `key`, '' = every key >= `key`,
   * otherwise [key, end). Stop early by returning false from `visit`.
   */
  range(key: string, end: string | undefined, atRev: number, visit: (k: IndexedKey) => boolean | void): void {
    if (end === undefined) {
      const rev = this.get(key, atRev)
      if (rev) visit({ key, rev })
      return
    }
    if (end !== '' && end <= key) return
    this.tree.forEachFrom(key, (k, h) => {
      if (end !== '' && k >= end) return false
      const rev = h.get(atRev)
      return rev === undefined || visit({ key: k, rev }) !== false
    })
  }

  /** How many keys in [key, end) ('' = every key >= key) exist at `atRev`, by visiting each. */
  count(key: string, end: string, atRev: number): number {
    let n = 0
    if (end !== '' && end <= key) return n
    this.tree.forEachFrom(key, (k, h) => {
      if (end !== '' && k >= end) return false
      if (h.get(atRev)) n++
    })
    return n
  }

  compact(atRev: number): void {
    const emptied: string[] = []
    this.tree.forEachFrom('', (k, h) => {
      h.compact(atRev)
      if (h.isEmpty()) emptied.push(k)
    })
    for (const k of emptied) this.remove(k)
  }

  /** Applies `edit` to the key's history, keeping the tree's live counts and the key's presence in step. */
  private change(key: string, edit: (h: KeyHistory) => void): void {
    const h = this.byKey.get(key)
    if (!h) {
      const created = new KeyHistory()
      edit(created)
      this.byKey.set(key, created)
      this.tree.insert(key, created)
      return
    }
    const was = h.alive
    edit(h)
    if (h.alive !== was) this.tree.adjust(key, h.alive ? 1 : -1)
    if (h.isEmpty()) this.remove(key)
  }

  private remove(key: string): void {
    this.byKey.delete(key)
    this.tree.delete(key)
  }
}
