/**
 * `etcdgw get|put|del|watch`: etcdctl's KV commands and flags over a gateway's HTTP API, for people without
 * etcdctl (what they print: kv-output.ts). Keys and values travel in base64 (exact bytes).
 */
import type { Command } from 'commander'
import { Errors } from '../errors.js'
import { prefixEnd } from '../backend/key-range.js'
import {
  addAccessOptions,
  type GatewayAccess,
  gatewayAccess,
  endpointList,
  endpointsOption,
  fail,
  GatewayError,
  post,
  rpc,
  type AccessFlags,
  writeOutOption,
} from './gateway-client.js'
import { type DeleteRangeBody, type KvFormat, printDeleteRange, printPut, printRange, printWatchEvents, type RangeBody, type WatchResult } from './kv-output.js'

interface GlobalFlags extends AccessFlags {
  endpoints: string
  writeOut: KvFormat
}

const toB64 = (b: Buffer) => b.toString('base64')

/** `key` and `range_end` as etcdctl builds them from KEY, [RANGE_END] and --prefix. */
export function keyRange(key: string, rangeEnd: string | undefined, prefix: boolean | undefined): Record<string, string> {
  const k = Buffer.from(key, 'utf8')
  if (prefix) {
    // etcdctl: an empty prefix is every key, from \0.
    if (k.length === 0) return { key: 'AA==', range_end: 'AA==' }
    return { key: toB64(k), range_end: toB64(prefixEnd(k)) }
  }
  return rangeEnd === undefined ? { key: toB64(k) } : { key: toB64(k), range_end: toB64(Buffer.from(rangeEnd, 'utf8')) }
}

export const intArg = (name: string) => (v: string) => {
  if (!/^-?\d+$/.test(v)) throw new Error(`invalid ${name} ${JSON.stringify(v)}`)
  return v
}

function withGlobalFlags(cmd: Command): Command {
  cmd.addOption(endpointsOption())
  cmd.addOption(writeOutOption(['simple', 'json']))
  return addAccessOptions(cmd)
}

/** A gateway: the first of --endpoints, with the TLS and user flags. */
class Gateway {
  readonly endpoint: string
  readonly access: GatewayAccess

  constructor(opts: GlobalFlags) {
    const endpoint = endpointList(opts.endpoints)[0]
    if (endpoint === undefined) fail('no endpoint in --endpoints')
    this.endpoint = endpoint
    this.access = gatewayAccess(opts)
  }

  call<T>(path: string, body: unknown): Promise<T> {
    return rpc<T>(this.endpoint, path, body, this.access)
  }

  /**
   * POST /v3/watch with one create request; `line` gets each response line until the stream ends, or
   * until it answers 'stop'.
   */
  async watch(createRequest: unknown, line: (json: string) => 'stop' | void): Promise<void> {
    const res = await post(`${this.endpoint}/v3/watch`, JSON.stringify({ create_request: createRequest }), this.access)
    let pending = ''
    res.setEncoding('utf8')
    for await (const chunk of res) {
      pending += chunk as string
      let nl: number
      while ((nl = pending.indexOf('\n')) !== -1) {
        const l = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (l.trim() !== '' && line(l) === 'stop') return void res.destroy()
      }
    }
    if (pending.trim() !== '') line(pending)
  }
}

const clientOf = (opts: GlobalFlags) => new Gateway(opts)

async function run(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (err) {
    fail((err as Error).message)
  }
}

export function registerKvCommands(program: Command): void {
  withGlobalFlags(
    program
      .command('get <key> [range_end]')
      .description('gets the key or a range of keys (as etcdctl get)')
      .option('--prefix', 'get keys with matching prefix')
      .option('--keys-only', 'get only the keys')
      .option('--limit <n>', 'maximum number of results', intArg('limit'))
      .option('--rev <revision>', 'specify the kv revision', intArg('revision')),
  ).action((key: string, rangeEnd: string | undefined, opts: GlobalFlags & { prefix?: boolean; keysOnly?: boolean; limit?: string; rev?: string }) =>
    run(async () => {
      const body = {
        ...keyRange(key, rangeEnd, opts.prefix),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        ...(opts.rev !== undefined ? { revision: opts.rev } : {}),
        ...(opts.keysOnly ? { keys_only: true } : {}),
      }
      printRange(await clientOf(opts).call<RangeBody>('kv/range', body), opts.writeOut)
    }),
  )

  withGlobalFlags(
    program
      .command('put <key> <value>')
      .description('puts the given key into the store (as etcdctl put)')
      .option('--lease <id>', 'lease ID (in hexadecimal) to attach to the key'),
  ).action((key: string, value: string, opts: GlobalFlags & { lease?: string }) =>
    run(async () => {
      const body: Record<string, string> = { key: toB64(Buffer.from(key)), value: toB64(Buffer.from(value)) }
      if (opts.lease !== undefined) {
        if (!/^[0-9a-fA-F]{1,16}$/.test(opts.lease)) throw new Error(`bad lease ID (${opts.lease}), expecting ID in Hex`)
        body.lease = BigInt.asIntN(64, BigInt('0x' + opts.lease)).toString()
      }
      printPut(await clientOf(opts).call<unknown>('kv/put', body), opts.writeOut)
    }),
  )

  withGlobalFlags(
    program
      .command('del <key> [range_end]')
      .description('removes the key or a range of keys (as etcdctl del)')
      .option('--prefix', 'delete keys with matching prefix'),
  ).action((key: string, rangeEnd: string | undefined, opts: GlobalFlags & { prefix?: boolean }) =>
    run(async () => {
      printDeleteRange(await clientOf(opts).call<DeleteRangeBody>('kv/deleterange', keyRange(key, rangeEnd, opts.prefix)), opts.writeOut)
    }),
  )

  withGlobalFlags(
    program
      .command('watch <key> [range_end]')
      .description('watches events on the key or prefix until interrupted (as etcdctl watch)')
      .option('--prefix', 'watch on a prefix')
      .option('--rev <revision>', 'revision to start watching', intArg('revision')),
  ).action((key: string, rangeEnd: string | undefined, opts: GlobalFlags & { prefix?: boolean; rev?: string }) =>
    run(async () => {
      const gateway = clientOf(opts)
      const range = keyRange(key, rangeEnd, opts.prefix)
      let from = opts.rev
      for (;;) {
        let renew = false
        await gateway.watch({ ...range, ...(from !== undefined ? { start_revision: from } : {}) }, (line) => {
          const parsed = JSON.parse(line) as { result?: WatchResult; error?: { message?: string }; message?: string }
          const r = parsed.result
          if (!r) throw new GatewayError(parsed.message ?? parsed.error?.message ?? line)
          if (r.canceled) {
            // etcdgw ends a watch when its token expires (etcd's gateway does not): with --user, a new
            // token, and the watch again from the revision after the last one seen
            if (gateway.access.login && r.cancel_reason?.endsWith(Errors.invalidAuthToken().message)) {
              renew = true
              return 'stop'
            }
            fail(`watch is canceled by the server${r.cancel_reason ? ` (${r.cancel_reason})` : ''}`)
          }
          from = nextRevision(r, from)
          printWatchEvents(r, opts.writeOut)
          return undefined
        })
        if (!renew) fail('watch stream closed by the server')
        gateway.access.login!.forget(gateway.endpoint)
      }
    }),
  )
}

/** The revision a watch opened again starts from: after the last event, or after the revision it was created at. */
function nextRevision(r: WatchResult, from: string | undefined): string | undefined {
  const last = r.events?.at(-1)?.kv?.mod_revision
  if (last !== undefined) return String(BigInt(last) + 1n)
  if (r.created && from === undefined && r.header?.revision !== undefined) return String(BigInt(r.header.revision) + 1n)
  return from
}
