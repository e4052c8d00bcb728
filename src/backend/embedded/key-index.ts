import { CountedTree } from './counted-tree.js'
import type { Revision } from './revision.js'

/**
 * The in-memory key index, modelled on etcd's mvcc keyIndex/treeIndex: every key maps to its
 * generations of revisions; a generation ends with a tombstone (the delete's revision). Keys are held
 * as latin1 strings, whose code-unit order is the raw byte order, so the B+tree sorts like etcd.
 * The tree counts the keys alive at the newest revision per subtree, so a count there is a walk down it.
 */
/** A key's revisions as a restart state saves them, oldest first. */
export interface SavedHistory {
  mainAt(i: number): number
  /** sub × 2, plus 1 for a tombstone. */
  taggedSubAt(i: number): number
}

/** Adds a saved key: its oldest revision, and the later ones as (main, tagged sub) pairs. */
export type AddSavedKey = (key: string, firstMain: number, firstTaggedSub: number, more: number[] | undefined) => void

/**
 * A key's revisions (puts and tombstones) in revision order, as etcd's keyIndex holds them in
 * generations: a generation ends with its tombstone, and the revisions after the last tombstone are
 * the live generation (none while the key is deleted). Each revision is two numbers: main, and
 * sub × 2 + 1 for a tombstone (sub × 2 for a put). The oldest one is held in the object itself and any
 * others in `more`, so a key written once is one object, whatever the number of keys.
 */
class KeyHistory implements SavedHistory {
  constructor(
    /** The oldest revision's main (-1: none, the history is empty), and its sub × 2 + tombstone. */
    private firstMain = -1,
    private firstSub = 0,
    /** The later revisions, as pairs likewise. */
    private more: number[] | undefined = undefined,
  ) {}

  get length(): number {
    return this.firstMain < 0 ? 0 : 1 + (this.more ? this.more.length >> 1 : 0)
  }

  mainAt(i: number): number {
    return i === 0 ? this.firstMain : this.more![2 * i - 2]!
  }

  /** sub × 2, plus 1 for a tombstone. */
  taggedSubAt(i: number): number {
    return i === 0 ? this.firstSub : this.more![2 * i - 1]!
  }

  private isTombstone(i: number): boolean {
    return (this.taggedSubAt(i) & 1) === 1
  }

  private revisionAt(i: number): Revision {
    return { main: this.mainAt(i), sub: this.taggedSubAt(i) >>> 1 }
  }

  put(rev: Revision): void {
    this.append(rev.main, rev.sub * 2)
  }

  /** Records a delete: the tombstone closes the live generation. */
  tombstone(rev: Revision): void {
    this.append(rev.main, rev.sub * 2 + 1)
  }

  private append(main: number, taggedSub: number): void {
    if (this.firstMain < 0) {
      this.firstMain = main
      this.firstSub = taggedSub
    } else if (this.more) this.more.push(main, taggedSub)
    else this.more = [main, taggedSub]
  }

  /** Takes back the last put or tombstone (a write that failed before it was committed). */
  undo(): void {
    if (this.more && this.more.length > 0) this.more.length -= 2
    else this.firstMain = -1
  }

  /** True while the key exists at the newest revision the index holds. */
  get alive(): boolean {
    const n = this.length
    return n > 0 && !this.isTombstone(n - 1)
  }

  isEmpty(): boolean {
    return this.firstMain < 0
  }

  /** The position of the newest revision at or before `atRev`, or -1 when the key did not exist then. */
  private at(atRev: number): number {
    let i = this.length - 1
    while (i >= 0 && this.mainAt(i) > atRev) i--
    // the key was deleted at or before atRev
    return i >= 0 && this.isTombstone(i) ? -1 : i
  }

  /** The revision that holds the key's value as of `atRev`, or undefined when the key did not exist then. */
  get(atRev: number): Revision | undefined {
    const i = this.at(atRev)
    return i < 0 ? undefined : this.revisionAt(i)
  }

  existsAt(atRev: number): boolean {
    return this.at(atRev) >= 0
  }

  /** Every revision of the key (puts and tombstones) with `from` <= main <= `to`, in revision order. */
  between(from: number, to: number, out: Revision[]): void {
    // revisions are in revision order: skip to `from`, stop past `to`
    let lo = 0
    let hi = this.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.mainAt(mid) < from) lo = mid + 1
      else hi = mid
    }
    for (let i = lo, n = this.length; i < n; i++) {
      if (this.mainAt(i) > to) return
      out.push(this.revisionAt(i))
    }
  }

  has(rev: Revision): boolean {
    for (let i = 0, n = this.length; i < n; i++) {
      if (this.mainAt(i) === rev.main && this.taggedSubAt(i) >>> 1 === rev.sub) return true
    }
    return false
  }

  /**
   * Drops every revision that no read at or after `atRev` can see (etcd's keyIndex.compact): keeps the
   * newest revision <= atRev of the generation alive at atRev, unless that revision is a lone tombstone.
   */
  compact(atRev: number): void {
    const n = this.length
    // the generation alive at atRev starts after the last tombstone at or before it...
    let start = 0
    for (let i = 0; i < n && this.mainAt(i) <= atRev; i++) if (this.isTombstone(i)) start = i + 1
    // ...and ends with the next tombstone (closed) or with the newest revision (the live generation)
    let end = start
    while (end < n && !this.isTombstone(end)) end++
    const closed = end < n
    if (closed) end++
    let keepFrom = start
    for (let i = end - 1; i >= start; i--) {
      if (this.mainAt(i) <= atRev) {
        keepFrom = i
        break
      }
    }
    if (end - keepFrom === 1 && closed) keepFrom = end
    this.dropBefore(keepFrom)
  }

  /** Drops the oldest `count` revisions. */
  private dropBefore(count: number): void {
    if (count === 0) return
    const n = this.length
    if (count >= n) {
      this.firstMain = -1
      this.more = undefined
      return
    }
    this.firstMain = this.mainAt(count)
    this.firstSub = this.taggedSubAt(count)
    this.more = count + 1 < n ? this.more!.slice(2 * count) : undefined
  }
}

export interface IndexedKey {
  key: string
  rev: Revision
}

const isAlive = (h: KeyHistory) => h.alive

export class KeyIndex {
  /** Every key in byte order, for ranges. */
  private tree = new CountedTree<KeyHistory>(isAlive)
  /**
   * The same histories by key. A point lookup (every put, single-key range and compare) is a hash probe
   * instead of a walk down the tree, whose cache misses cost ~2 µs per walk at a few 100k keys.
   */
  private byKey = new Map<string, KeyHistory>()
  /**
   * After load(), the keys from this one on are not in byKey yet (lookups walk the tree for them) until
   * mapKeys() has added them; undefined once byKey holds every key. Inserting a million keys into a Map
   * takes longer than loading the whole index, so a start-up does not wait for it.
   */
  private unmapped: string | undefined

  /**
   * Replaces what the index holds with the `keyCount` keys `produce` adds, in byte order (distinct), as
   * forEachHistory gave them. When `produce` throws, the index is left as it was.
   */
  load(keyCount: number, produce: (add: AddSavedKey) => void): void {
    const keys = new Array<string>(keyCount)
    const histories = new Array<KeyHistory>(keyCount)
    let n = 0
    produce((key, firstMain, firstTaggedSub, more) => {
      keys[n] = key
      histories[n++] = new KeyHistory(firstMain, firstTaggedSub, more)
    })
    if (n !== keyCount) throw new Error(`${n} keys where ${keyCount} were announced`)
    this.byKey = new Map()
    this.tree = CountedTree.fromSorted(isAlive, keys, histories)
    this.unmapped = keyCount > 0 ? keys[0] : undefined
  }

  /** Adds up to `budget` more keys to the map of keys after a load(); true once it holds every key. */
  mapKeys(budget: number): boolean {
    if (this.unmapped === undefined) return true
    let left = budget
    let next: string | undefined
    this.tree.forEachFrom(this.unmapped, (k, h) => {
      if (left-- === 0) {
        next = k
        return false
      }
      this.byKey.set(k, h)
    })
    this.unmapped = next
    return next === undefined
  }

  private lookup(key: string): KeyHistory | undefined {
    return this.byKey.get(key) ?? (this.unmapped !== undefined && key >= this.unmapped ? this.tree.get(key) : undefined)
  }

  /**
   * Every key from `from` on that had a revision at or before `upTo`, in byte order, with its history and
   * how many of its revisions (the oldest) are at or before `upTo` (read them before the index changes
   * again). At most `budget` keys are looked at: returns the key to go on from, undefined after the last.
   */
  forEachHistory(upTo: number, visit: (key: string, history: SavedHistory, revisions: number) => void, from = '', budget = Infinity): string | undefined {
    let left = budget
    let next: string | undefined
    this.tree.forEachFrom(from, (k, h) => {
      if (left-- === 0) {
        next = k
        return false
      }
      let n = h.length
      while (n > 0 && h.mainAt(n - 1) > upTo) n--
      if (n > 0) visit(k, h, n)
    })
    return next
  }

  get size(): number {
    return this.tree.size
  }

  get(key: string, atRev: number): Revision | undefined {
    return this.lookup(key)?.get(atRev)
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
    if (!this.lookup(key)) return
    this.change(key, (h) => h.undo())
  }

  /** True when the key exists at the newest revision the index holds. */
  aliveNow(key: string): boolean {
    return this.lookup(key)?.alive ?? false
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
    this.lookup(key)?.between(from, to, out)
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
    return this.lookup(key)?.has(rev) ?? false
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
      if (h.existsAt(atRev)) n++
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
    const h = this.lookup(key)
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
