/**
 * Paging through keys on the server: every page is read at the revision of the first one, so that later
 * pages show the same snapshot, and continues from the key after the last one shown. The tree groups keys
 * by '/' and skips a whole directory with one range start (prefixEnd of "dir/").
 *
 * etcd answers every range with the count of keys in all of [key, range_end), and counts them one by one
 * (so does the embedded store): a page read as [next key, end of prefix) under a million keys costs a
 * million steps. After the first page, pages are therefore read in windows: [from, prefixEnd(from's first
 * n bytes)), where n is how long a prefix the previous page's keys shared (the window that likely holds a
 * page), then windows of ever shorter prefixes until the page is full. Each range counts only its window.
 */
import { api } from './api.js'
import { concat, fromWire, keyAfter, prefixEnd, toWire } from './bytes.js'

export const PAGE_SIZE = 100
const SEPARATOR = 0x2f // '/'

export interface KeyEntry {
  key: Uint8Array
  /** the part shown: the whole key (flat), or its segment below the directory (tree) */
  label: Uint8Array
  /** a directory of the tree: label ends with '/' and key is its prefix */
  dir: boolean
}

export interface Page {
  entries: KeyEntry[]
  /** where the next page starts; undefined on the last page */
  next?: Uint8Array
  revision: number
  /** the keys in the whole range, when this page read it all (a first page) */
  total?: number
  /** how long a prefix this page's keys share: the next page's window (see above) */
  windowHint?: number
}

interface Range {
  start: Uint8Array
  /** exclusive; [0] is etcd's "\0": no end */
  end: Uint8Array
  /** every key of the range starts with these many bytes of start */
  shared: number
}

/** The range every key under `prefix` covers. An empty prefix is every key. */
export function prefixRange(prefix: Uint8Array): Range {
  return prefix.length === 0
    ? { start: new Uint8Array([0]), end: new Uint8Array([0]), shared: 0 }
    : { start: prefix, end: prefixEnd(prefix), shared: prefix.length }
}

const noEnd = (end: Uint8Array) => end.length === 1 && end[0] === 0

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}

interface Batch {
  keys: Uint8Array[]
  more: boolean
  revision: number
  total?: number
}

/** Up to `want` keys of `range` from `from` on: one range over all of it without a hint, windows with one. */
async function nextKeys(range: Range, from: Uint8Array, revision: number, want: number, hint?: number): Promise<Batch> {
  const read = async (key: Uint8Array, end: Uint8Array, limit: number, rev: number) => {
    const res = await api.range({ key: toWire(key), range_end: toWire(end), limit, revision: rev, keys_only: true })
    return { keys: (res.kvs ?? []).map((kv) => fromWire(kv.key)), more: res.more === true, revision: rev || Number(res.header.revision), count: Number(res.count ?? 0) }
  }
  if (hint === undefined || hint <= range.shared) {
    const r = await read(from, range.end, want, revision)
    return { keys: r.keys, more: r.more, revision: r.revision, total: r.count }
  }
  const keys: Uint8Array[] = []
  let rev = revision
  let cursor = from
  let len = Math.min(hint, from.length)
  for (;;) {
    let end = len > range.shared ? prefixEnd(cursor.subarray(0, len)) : range.end
    const last = end === range.end || noEnd(end) || (!noEnd(range.end) && compare(end, range.end) >= 0)
    if (last) end = range.end
    // one key more than needed tells whether anything follows the page
    const r = await read(cursor, end, want - keys.length + 1, rev)
    rev = r.revision
    keys.push(...r.keys)
    if (keys.length > want) return { keys: keys.slice(0, want), more: true, revision: rev }
    if (r.more) return { keys, more: true, revision: rev }
    if (last) return { keys, more: false, revision: rev }
    cursor = end
    len = Math.min(len, cursor.length) - 1
  }
}

function hintOf(keys: Uint8Array[], full: boolean): number | undefined {
  return full && keys.length > 1 ? sharedPrefix(keys[0]!, keys[keys.length - 1]!) : undefined
}

export async function flatPage(prefix: Uint8Array, from: Uint8Array | undefined, revision: number, windowHint?: number): Promise<Page> {
  const range = prefixRange(prefix)
  const batch = await nextKeys(range, from ?? range.start, revision, PAGE_SIZE, from ? windowHint : undefined)
  const entries = batch.keys.map((key) => ({ key, label: key, dir: false }))
  const hint = hintOf(batch.keys, batch.keys.length === PAGE_SIZE)
  return {
    entries,
    ...(batch.more && entries.length > 0 ? { next: keyAfter(batch.keys[batch.keys.length - 1]!) } : {}),
    revision: batch.revision,
    ...(batch.total !== undefined ? { total: batch.total } : {}),
    ...(hint !== undefined ? { windowHint: hint } : {}),
  }
}

/** Up to PAGE_SIZE children of the directory `dir` (which is "" or ends in '/'): its keys and subdirectories. */
export async function treePage(dir: Uint8Array, from: Uint8Array | undefined, revision: number, windowHint?: number): Promise<Page> {
  const range = prefixRange(dir)
  const entries: KeyEntry[] = []
  let cursor: Uint8Array | undefined = from ?? range.start
  let rev = revision
  let hint = from ? windowHint : undefined
  while (cursor && entries.length < PAGE_SIZE) {
    const batch = await nextKeys(range, cursor, rev, PAGE_SIZE, hint)
    rev = batch.revision
    const keys = batch.keys
    cursor = undefined
    for (let i = 0; i < keys.length && entries.length < PAGE_SIZE; i++) {
      const key = keys[i]!
      const rest = key.subarray(dir.length)
      const slash = rest.indexOf(SEPARATOR)
      if (slash === -1) {
        entries.push({ key, label: rest, dir: false })
        cursor = batch.more || i < keys.length - 1 ? keyAfter(key) : undefined
      } else {
        const sub = concat(dir, rest.subarray(0, slash + 1))
        entries.push({ key: sub, label: sub.subarray(dir.length), dir: true })
        // Everything else under this subdirectory is skipped: the next range starts after it.
        cursor = prefixEnd(sub)
        break
      }
    }
    hint = hintOf(keys, keys.length === PAGE_SIZE) ?? hint
  }
  const leaves = entries.filter((e) => !e.dir).map((e) => e.key)
  const nextHint = hintOf(leaves, leaves.length > 1)
  return { entries, ...(cursor ? { next: cursor } : {}), revision: rev, ...(nextHint !== undefined ? { windowHint: nextHint } : {}) }
}
