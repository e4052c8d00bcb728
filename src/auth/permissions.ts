/**
 * etcd's permission check (auth/range_perm_cache.go): a user's permissions are the union of their roles'
 * key ranges, one set for reading and one for writing. A request on one key needs a range holding the key;
 * a request on [key, end) needs the union to cover the whole interval.
 */
import { type Permission, PermissionType } from '../backend/backend.js'

/**
 * etcd's BytesAffineComparable: byte strings in byte order, where the empty string stands above every
 * other (an open end).
 */
function compareAffine(a: Buffer, b: Buffer): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1
  if (b.length === 0) return -1
  return Buffer.compare(a, b)
}

interface Interval {
  begin: Buffer
  /** Empty: no end. */
  end: Buffer
}

const zero = Buffer.from([0])

/** [key, key + "\0"): the one key. */
function point(key: Buffer): Interval {
  return { begin: key, end: Buffer.concat([key, zero]) }
}

/** A permission's interval: its key alone (no range end), [key, end), or from key on (range end "\0"). */
function intervalOf(p: Permission): Interval {
  if (p.rangeEnd.length === 0) return point(p.key)
  const open = p.rangeEnd.length === 1 && p.rangeEnd[0] === 0
  return { begin: p.key, end: open ? Buffer.alloc(0) : p.rangeEnd }
}

class IntervalSet {
  private readonly intervals: Interval[] = []

  add(i: Interval): void {
    this.intervals.push(i)
  }

  /** Sorted by begin once every interval is in. */
  seal(): void {
    this.intervals.sort((a, b) => compareAffine(a.begin, b.begin))
  }

  /** Whether one interval holds the key. */
  holds(key: Buffer): boolean {
    return this.intervals.some((i) => compareAffine(i.begin, key) <= 0 && compareAffine(key, i.end) < 0)
  }

  /**
   * Whether the intervals together cover [begin, end) (end empty: no end), as etcd's interval tree
   * answers Contains: the intervals meeting it, in order of their begins, leave no gap and reach past both sides.
   */
  covers(begin: Buffer, end: Buffer): boolean {
    let first: Interval | undefined
    let reached: Buffer | undefined
    for (const i of this.intervals) {
      if (!(compareAffine(i.begin, end) < 0 && compareAffine(begin, i.end) < 0)) continue
      if (!first || !reached) {
        first = i
        reached = i.end
        continue
      }
      if (compareAffine(reached, i.begin) < 0) return false
      if (compareAffine(i.end, reached) > 0) reached = i.end
    }
    return first !== undefined && compareAffine(reached!, end) >= 0 && compareAffine(first.begin, begin) <= 0
  }
}

export type Access = 'read' | 'write'

/** One user's merged permissions. */
export class RangePermissions {
  private readonly read = new IntervalSet()
  private readonly write = new IntervalSet()

  constructor(perms: Iterable<Permission>) {
    for (const p of perms) {
      const i = intervalOf(p)
      if (p.permType !== PermissionType.WRITE) this.read.add(i)
      if (p.permType !== PermissionType.READ) this.write.add(i)
    }
    this.read.seal()
    this.write.seal()
  }

  /**
   * etcd's isRangeOpPermitted: no range end is the key alone, a range end of "\0" every key from the key
   * on, anything else [key, rangeEnd).
   */
  permits(access: Access, key: Buffer, rangeEnd: Buffer): boolean {
    const set = access === 'read' ? this.read : this.write
    if (rangeEnd.length === 0) return set.holds(key)
    const open = rangeEnd.length === 1 && rangeEnd[0] === 0
    return set.covers(key, open ? Buffer.alloc(0) : rangeEnd)
  }
}
