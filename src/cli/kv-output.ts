/** What `etcdgw get|put|del|watch` print: etcdctl's simple and json layouts, keys and values as exact bytes. */
import { etcdctlJson } from './output.js'

export type KvFormat = 'simple' | 'json'

interface KeyValueBody {
  key?: string
  value?: string
  mod_revision?: string
}

interface EventBody {
  type?: string
  kv?: KeyValueBody
}

export interface RangeBody {
  kvs?: KeyValueBody[]
}

export interface DeleteRangeBody {
  deleted?: string
}

/** One response line of a gateway's watch stream. */
export interface WatchResult {
  header?: { revision?: string }
  created?: boolean
  events?: EventBody[]
  compact_revision?: string
  canceled?: boolean
  cancel_reason?: string
}

const fromB64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64')
const nl = Buffer.from('\n')

const write = (parts: Array<Buffer | string>) =>
  process.stdout.write(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))))

/** etcdctl's simple layout of a key-value: the key on a line, then the value (an empty line with --keys-only). */
function simpleKv(kv: KeyValueBody): Buffer[] {
  return [fromB64(kv.key), nl, fromB64(kv.value), nl]
}

function simpleEvent(e: EventBody): Buffer[] {
  return [Buffer.from(e.type ?? 'PUT'), nl, ...simpleKv(e.kv ?? {})]
}

/** etcdctl prints clientv3's WatchResponse struct: Go field names, event types as numbers (PUT = 0, omitted). */
function watchJson(r: WatchResult): string {
  const events = (r.events ?? []).map(({ type, ...rest }) => (type === 'DELETE' ? { type: 1, ...rest } : rest))
  return (
    `{"Header":${etcdctlJson(r.header ?? {})},"Events":${etcdctlJson(events)},` +
    `"CompactRevision":${r.compact_revision ?? 0},"Canceled":false,"Created":false}`
  )
}

export function printRange(res: RangeBody, format: KvFormat): void {
  write(format === 'json' ? [etcdctlJson(res), '\n'] : (res.kvs ?? []).flatMap(simpleKv))
}

export function printPut(res: unknown, format: KvFormat): void {
  write([format === 'json' ? etcdctlJson(res) : 'OK', '\n'])
}

export function printDeleteRange(res: DeleteRangeBody, format: KvFormat): void {
  write([format === 'json' ? etcdctlJson(res) : (res.deleted ?? '0'), '\n'])
}

/** A watch response with events; etcdctl prints nothing for one without (created, progress). */
export function printWatchEvents(r: WatchResult, format: KvFormat): void {
  if (!r.events?.length) return
  write(format === 'json' ? [watchJson(r), '\n'] : r.events.flatMap(simpleEvent))
}
