import sortedBtree from 'sorted-btree'
import type { Revision } from './revision.js'

/**
 * The in-memory key index, modelled on etcd's mvcc keyIndex/treeIndex: every key maps to its
 * generations of revisions; a generation ends with a tombstone (the delete's revision). Keys are held
 * as latin1 strings, whose code-unit order is the raw byte order, so the B+tree sorts like etcd.
 */
type Generation = Revision[]

class KeyHistory {
  /** The last generation is the live one; it is empty when the key is currently deleted. */
  generations: Generation[] = [[]]

  put(rev: Revision): void {
    this.generations[this.generations.length - 1]!.push(rev)
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
      for (const r of g) if (r.main >= from && r.main <= to) out.push(r)
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

// sorted-btree is CommonJS with the class on `default`
const BTree = sortedBtree.default

export class KeyIndex {
  /** Every key in byte order, for ranges. */
  private readonly tree = new BTree<string, KeyHistory>()
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
    this.history(key).put(rev)
  }

  /** Records a delete (a key the index does not hold yet gets one only at start-up, after a compaction). */
  tombstone(key: string, rev: Revision): void {
    this.history(key).tombstone(rev)
  }

  /** Takes back the key's last put or tombstone. */
  undo(key: string): void {
    const h = this.byKey.get(key)
    if (!h) return
    h.undo()
    if (h.isEmpty()) this.remove(key)
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
    for (const [k, h] of this.tree.entries(key)) {
      if (end !== '' && k >= end) return
      const rev = h.get(atRev)
      if (rev && visit({ key: k, rev }) === false) return
    }
  }

  compact(atRev: number): void {
    const emptied: string[] = []
    this.tree.forEach((h, k) => {
      h.compact(atRev)
      if (h.isEmpty()) emptied.push(k)
    })
    for (const k of emptied) this.remove(k)
  }

  private history(key: string): KeyHistory {
    let h = this.byKey.get(key)
    if (!h) {
      h = new KeyHistory()
      this.byKey.set(key, h)
      this.tree.set(key, h)
    }
    return h
  }

  private remove(key: string): void {
    this.byKey.delete(key)
    this.tree.delete(key)
  }
}
