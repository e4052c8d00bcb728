/** Backend requests with etcd's defaults, so a test names only what it sets. */
import type { DeleteRangeRequest, PutRequest, RangeRequest, WatchCreateRequest } from '../../src/backend/backend.js'

const buf = (v: string | Buffer | undefined) => (v === undefined ? Buffer.alloc(0) : Buffer.from(v))

type Bytes<T, K extends keyof T> = Omit<Partial<T>, K> & { [P in K]?: string | Buffer }

export function range(r: Bytes<RangeRequest, 'key' | 'rangeEnd'>): RangeRequest {
  return {
    limit: 0,
    revision: 0,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...r,
    key: buf(r.key),
    rangeEnd: buf(r.rangeEnd),
  }
}

export function put(r: Bytes<PutRequest, 'key' | 'value'>): PutRequest {
  return { lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false, ...r, key: buf(r.key), value: buf(r.value) }
}

export function deleteRange(r: Bytes<DeleteRangeRequest, 'key' | 'rangeEnd'>): DeleteRangeRequest {
  return { prevKv: false, ...r, key: buf(r.key), rangeEnd: buf(r.rangeEnd) }
}

export function watchCreate(r: Bytes<WatchCreateRequest, 'key' | 'rangeEnd'>): WatchCreateRequest {
  return {
    startRevision: 0,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0,
    fragment: false,
    ...r,
    key: buf(r.key),
    rangeEnd: buf(r.rangeEnd),
  }
}
