/**
 * An ordered map from string keys to values (a B+tree) whose every node knows how many live entries its
 * subtree holds: counting the live keys of a range walks down the tree twice instead of visiting them
 * (an order-statistics tree). Which entries are live is the caller's to say; it reports each change.
 */

const MAX_ENTRIES = 64
/** A node below this many entries is merged with a neighbour. */
const MIN_ENTRIES = MAX_ENTRIES >> 2
/** Entries per node of a tree built from sorted entries: room is left for the inserts that follow. */
const BUILT_ENTRIES = (MAX_ENTRIES * 3) >> 2

class Leaf<V> {
  constructor(
    readonly keys: string[],
    readonly values: V[],
    public live: number,
    public next: Leaf<V> | undefined,
  ) {}
}

class Branch<V> {
  constructor(
    /** keys[i] is a lower bound of children[i]'s keys and an upper bound of children[i - 1]'s. */
    readonly keys: string[],
    readonly children: Node<V>[],
    public live: number,
  ) {}
}

type Node<V> = Leaf<V> | Branch<V>

/** The first index whose key is >= key. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The child of a branch whose keys range holds `key`. */
function childIndex(keys: string[], key: string): number {
  let lo = 1
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (keys[mid]! <= key) lo = mid + 1
    else hi = mid
  }
  return lo - 1
}

export class CountedTree<V> {
  private root: Node<V> = new Leaf<V>([], [], 0, undefined)
  private entries = 0

  constructor(private readonly isLive: (value: V) => boolean) {}

  /** A tree of `keys` (sorted, distinct) and their `values`, built level by level without a search. */
  static fromSorted<V>(isLive: (value: V) => boolean, keys: string[], values: V[]): CountedTree<V> {
    const tree = new CountedTree<V>(isLive)
    if (keys.length === 0) return tree
    let level: Node<V>[] = []
    let previous: Leaf<V> | undefined
    for (let at = 0; at < keys.length; at += BUILT_ENTRIES) {
      const leaf = new Leaf<V>(keys.slice(at, at + BUILT_ENTRIES), values.slice(at, at + BUILT_ENTRIES), 0, undefined)
      leaf.live = tree.recount(leaf)
      if (previous) previous.next = leaf
      previous = leaf
      level.push(leaf)
    }
    while (level.length > 1) {
      const up: Node<V>[] = []
      for (let at = 0; at < level.length; at += BUILT_ENTRIES) {
        const children = level.slice(at, at + BUILT_ENTRIES)
        const branch = new Branch<V>(children.map(firstKey), children, 0)
        branch.live = tree.recount(branch)
        up.push(branch)
      }
      level = up
    }
    tree.root = level[0]!
    tree.entries = keys.length
    return tree
  }

  get size(): number {
    return this.entries
  }

  /** Live entries in the whole tree. */
  get live(): number {
    return this.root.live
  }

  /** The value of `key`, or undefined when the tree does not hold it. */
  get(key: string): V | undefined {
    let node = this.root
    while (node instanceof Branch) node = node.children[childIndex(node.keys, key)]!
    const at = lowerBound(node.keys, key)
    return node.keys[at] === key ? node.values[at] : undefined
  }

  /** Adds a key the tree does not hold yet. */
  insert(key: string, value: V): void {
    const right = this.insertInto(this.root, key, value, this.isLive(value) ? 1 : 0)
    if (right) {
      const left = this.root
      this.root = new Branch<V>([firstKey(left), firstKey(right)], [left, right], left.live + right.live)
    }
    this.entries++
  }

  /** Records that the entry of `key` turned live (+1) or not live (-1). */
  adjust(key: string, delta: 1 | -1): void {
    let node = this.root
    while (node instanceof Branch) {
      node.live += delta
      node = node.children[childIndex(node.keys, key)]!
    }
    node.live += delta
  }

  /** Removes the key; false when it was not there. */
  delete(key: string): boolean {
    const removed = this.deleteFrom(this.root, key)
    if (removed < 0) return false
    while (this.root instanceof Branch && this.root.children.length === 1) this.root = this.root.children[0]!
    this.entries--
    return true
  }

  /** Live entries with from <= key < end ('' = no end). */
  countLive(from: string, end: string): number {
    if (end !== '' && end <= from) return 0
    return (end === '' ? this.root.live : this.liveBelow(end)) - this.liveBelow(from)
  }

  /** Visits entries with key >= `from` in key order until `visit` returns false. */
  forEachFrom(from: string, visit: (key: string, value: V) => boolean | void): void {
    let node = this.root
    while (node instanceof Branch) node = node.children[childIndex(node.keys, from)]!
    let leaf: Leaf<V> | undefined = node
    let i = lowerBound(node.keys, from)
    while (leaf) {
      const { keys, values } = leaf
      for (; i < keys.length; i++) if (visit(keys[i]!, values[i]!) === false) return
      leaf = leaf.next
      i = 0
    }
  }

  /** Live entries whose key is < `key`. */
  private liveBelow(key: string): number {
    let n = 0
    let node = this.root
    while (node instanceof Branch) {
      const at = childIndex(node.keys, key)
      for (let j = 0; j < at; j++) n += node.children[j]!.live
      node = node.children[at]!
    }
    const at = lowerBound(node.keys, key)
    for (let j = 0; j < at; j++) if (this.isLive(node.values[j]!)) n++
    return n
  }

  /** Returns the new right sibling when the node split. */
  private insertInto(node: Node<V>, key: string, value: V, live: number): Node<V> | undefined {
    node.live += live
    if (node instanceof Leaf) {
      const at = lowerBound(node.keys, key)
      node.keys.splice(at, 0, key)
      node.values.splice(at, 0, value)
      return node.keys.length > MAX_ENTRIES ? this.split(node) : undefined
    }
    const at = childIndex(node.keys, key)
    const right = this.insertInto(node.children[at]!, key, value, live)
    if (!right) return undefined
    node.keys.splice(at + 1, 0, firstKey(right))
    node.children.splice(at + 1, 0, right)
    return node.keys.length > MAX_ENTRIES ? this.split(node) : undefined
  }

  /** Moves the upper half of a node into a new right sibling. */
  private split(node: Node<V>): Node<V> {
    const half = node.keys.length >> 1
    let right: Node<V>
    if (node instanceof Leaf) {
      right = new Leaf<V>(node.keys.splice(half), node.values.splice(half), 0, node.next)
      node.next = right
    } else {
      right = new Branch<V>(node.keys.splice(half), node.children.splice(half), 0)
    }
    right.live = this.recount(right)
    node.live -= right.live
    return right
  }

  private recount(node: Node<V>): number {
    let n = 0
    if (node instanceof Leaf) {
      for (const v of node.values) if (this.isLive(v)) n++
    } else {
      for (const c of node.children) n += c.live
    }
    return n
  }

  /** Returns how many live entries left with the key (0 or 1), -1 when it was not there. */
  private deleteFrom(node: Node<V>, key: string): number {
    if (node instanceof Leaf) {
      const at = lowerBound(node.keys, key)
      if (node.keys[at] !== key) return -1
      const live = this.isLive(node.values[at]!) ? 1 : 0
      node.keys.splice(at, 1)
      node.values.splice(at, 1)
      node.live -= live
      return live
    }
    const at = childIndex(node.keys, key)
    const live = this.deleteFrom(node.children[at]!, key)
    if (live < 0) return live
    node.live -= live
    if (node.children[at]!.keys.length < MIN_ENTRIES && node.children.length > 1) this.merge(node, at > 0 ? at - 1 : at)
    return live
  }

  /** Merges children[at + 1] into children[at], splitting the result again when it is too big. */
  private merge(parent: Branch<V>, at: number): void {
    const left = parent.children[at]!
    const right = parent.children[at + 1]!
    left.keys.push(...right.keys)
    if (left instanceof Leaf) {
      left.values.push(...(right as Leaf<V>).values)
      left.next = (right as Leaf<V>).next
    } else {
      left.children.push(...(right as Branch<V>).children)
    }
    left.live += right.live
    parent.keys.splice(at + 1, 1)
    parent.children.splice(at + 1, 1)
    if (left.keys.length > MAX_ENTRIES) {
      const again = this.split(left)
      parent.keys.splice(at + 1, 0, firstKey(again))
      parent.children.splice(at + 1, 0, again)
    }
  }
}

function firstKey<V>(node: Node<V>): string {
  return node.keys[0]!
}
