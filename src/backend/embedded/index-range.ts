/** A range read over a key index (etcd's treeIndex.Range + rangeKeys): one page of rows and the count of the whole range. */
import type { KeyValue } from '../backend.js'
import type { KeyIndex } from './key-index.js'
import type { StoredChange } from './kv-codec.js'
import type { Revision } from './revision.js'
import type { RangeOptions } from './views.js'

export interface IndexRangeSource {
  readonly index: KeyIndex
  readRow(rev: Revision): StoredChange
  /** The number of keys in [from, end) at `atRev` when the store knows it cheaper than a visit of each key. */
  countAt(from: string, end: string, atRev: number): number | undefined
}

/**
 * The keys of `key`..`end` alive at `rev` (`end` undefined = the key alone, empty = every key >= key):
 * at most `opts.limit` of them (none for count), and how many there are in all.
 */
export function indexRange(
  src: IndexRangeSource,
  key: Buffer,
  end: Buffer | undefined,
  rev: number,
  opts: RangeOptions,
): { kvs: KeyValue[]; count: number } {
  const from = key.toString('latin1')
  // count covers the whole range, the page at most `limit` keys (none for count_only)
  const pageSize = opts.count ? 0 : opts.limit > 0 ? opts.limit : Infinity
  const page: Revision[] = []
  let count: number
  if (end === undefined) {
    const found = src.index.get(from, rev)
    if (found && pageSize > 0) page.push(found)
    count = found ? 1 : 0
  } else {
    const endKey = end.toString('latin1')
    if (pageSize > 0) {
      src.index.range(from, endKey, rev, (k) => {
        page.push(k.rev)
        return page.length < pageSize
      })
    }
    count = pageSize === Infinity ? page.length : (src.countAt(from, endKey, rev) ?? src.index.count(from, endKey, rev))
  }
  const kvs = new Array<KeyValue>(page.length)
  for (let i = 0; i < page.length; i++) kvs[i] = src.readRow(page[i]!).kv
  return { kvs, count }
}
