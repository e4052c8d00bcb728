/** etcd's key-range rules (v3rpc and mvcc), for every layer that reads a key and a range_end. */

const zeroByte = Buffer.from([0])

/**
 * etcd's mkGteRange: no range_end is the key alone (undefined), a range_end of "\0" is every key >= key
 * (an empty end), anything else is [key, range_end).
 */
export function rangeEndOf(rangeEnd: Buffer): Buffer | undefined {
  if (rangeEnd.length === 0) return undefined
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return Buffer.alloc(0)
  return rangeEnd
}

/** What a watch covers: as etcd's v3rpc, a create request without a key watches from "\0". */
export function watchRange(req: { key: Buffer; rangeEnd: Buffer }): { key: Buffer; end: Buffer | undefined } {
  return { key: req.key.length === 0 ? zeroByte : req.key, end: rangeEndOf(req.rangeEnd) }
}

/** A bounded range that holds no key (mvcc's "watcher range is empty"). */
export function isEmptyRange(key: Buffer, end: Buffer | undefined): boolean {
  return end !== undefined && end.length > 0 && Buffer.compare(key, end) >= 0
}

/** etcd's prefix end: the key with its last byte below 0xff incremented and the rest cut; none: every key ("\0"). */
export function prefixEnd(key: Buffer): Buffer {
  for (let i = key.length - 1; i >= 0; i--) {
    if (key[i]! < 0xff) {
      const end = Buffer.from(key.subarray(0, i + 1))
      end[i]! += 1
      return end
    }
  }
  return zeroByte
}
