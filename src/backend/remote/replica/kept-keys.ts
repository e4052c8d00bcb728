/** Which keys the replica keeps: the whole keyspace, or the keys under --replica-prefixes (etcdctl's byte prefixes). */
import { prefixEnd } from '../../key-range.js'

/** A kept span as etcd's range takes it: [key, rangeEnd), a rangeEnd of "\0" running to the end of the keyspace. */
export interface KeptSpan {
  key: Buffer
  rangeEnd: Buffer
}

const ZERO = Buffer.from([0])
const toEnd = (rangeEnd: Buffer) => rangeEnd.length === 1 && rangeEnd[0] === 0

export class KeptKeys {
  /** Disjoint and in key order: a prefix under another kept one adds nothing. */
  readonly spans: readonly KeptSpan[]

  /** No prefixes, or an empty one among them: every key. */
  constructor(prefixes?: readonly Buffer[]) {
    if (!prefixes || prefixes.length === 0 || prefixes.some((p) => p.length === 0)) {
      this.spans = [{ key: ZERO, rangeEnd: ZERO }]
      return
    }
    const kept: Buffer[] = []
    for (const p of [...prefixes].sort(Buffer.compare)) {
      const last = kept[kept.length - 1]
      // sorted, so a prefix under any kept one is under the last
      if (last === undefined || !p.subarray(0, last.length).equals(last)) kept.push(p)
    }
    this.spans = kept.map((key) => ({ key, rangeEnd: prefixEnd(key) }))
  }

  /**
   * Whether every key of `key` to `end` is kept (end as the key-range rules read it: undefined the key
   * alone, empty every key from it on).
   */
  covers(key: Buffer, end: Buffer | undefined): boolean {
    return this.spans.some((span) => {
      if (Buffer.compare(key, span.key) < 0) return false
      if (toEnd(span.rangeEnd)) return true
      if (end === undefined) return Buffer.compare(key, span.rangeEnd) < 0
      return end.length > 0 && Buffer.compare(end, span.rangeEnd) <= 0
    })
  }

  /** Whether one key is kept. */
  holds(key: Buffer): boolean {
    return this.covers(key, undefined)
  }
}
