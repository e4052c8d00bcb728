/**
 * What the snapshot tests put in a store and how they compare two stores: the same requests sent to
 * etcd's gateway and to ours make the same revisions, so a snapshot of either, restored into the
 * other, must answer every range at every revision the same.
 */
import { spawn } from 'node:child_process'
import type { Test } from 'tap'
import { post } from './http.js'
import { MAIN_JS } from './gateway.js'

export { ETCDCTL_BIN as ETCDCTL } from './etcd.js'
import { ETCDCTL_BIN as ETCDCTL } from './etcd.js'

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64')

async function call(url: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await post(url, path, JSON.stringify(body), { timeoutMs: 10_000 })
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.body}`)
  return JSON.parse(res.body) as Record<string, unknown>
}

export const LEASE_ID = '7587862116722441000'

/**
 * Puts, overwrites, deletes, a txn, a lease with keys attached, keys and values with every byte value,
 * a compaction, and writes after it. Returns the compaction's revision.
 */
export async function applyWorkload(url: string): Promise<number> {
  const put = (key: Buffer | string, value: Buffer | string, extra: object = {}) => call(url, '/v3/kv/put', { key: b64(key), value: b64(value), ...extra })
  for (let i = 0; i < 16; i++) {
    const bytes = Buffer.from(Array.from({ length: 16 }, (_, j) => i * 16 + j))
    await put(Buffer.concat([Buffer.from('bin/'), bytes]), Buffer.concat([bytes, bytes.reverse()]))
  }
  await put('a', '1')
  await put('b', '2')
  await put('a', '3')
  await call(url, '/v3/kv/deleterange', { key: b64('b') })
  await call(url, '/v3/lease/grant', { ID: LEASE_ID, TTL: 3600 })
  await put('leased/1', 'x', { lease: LEASE_ID })
  await put('leased/2', 'y', { lease: LEASE_ID })
  await call(url, '/v3/kv/txn', {
    compare: [{ key: b64('a'), target: 'VALUE', value: b64('3') }],
    success: [
      { request_put: { key: b64('t1'), value: b64('in txn') } },
      { request_put: { key: b64('t2'), value: Buffer.alloc(5000, 7).toString('base64') } },
      { request_delete_range: { key: b64('bin/'), range_end: b64('bin0') } },
    ],
  })
  const { header } = (await call(url, '/v3/kv/put', { key: b64('a'), value: b64('4') })) as { header: { revision: string } }
  const compactRev = Number(header.revision) - 2
  await call(url, '/v3/kv/compaction', { revision: compactRev, physical: true })
  await put('after', 'compaction')
  await put('t1', 'again')
  await call(url, '/v3/kv/deleterange', { key: b64('t2') })
  return compactRev
}

export interface RangeAnswer {
  status: number
  body: { header?: { revision?: string }; kvs?: unknown[]; count?: string; code?: number; error?: string }
}

export async function rangeAll(url: string, revision: number): Promise<RangeAnswer> {
  const res = await post(url, '/v3/kv/range', JSON.stringify({ key: 'AA==', range_end: 'AA==', revision }), { timeoutMs: 10_000 })
  return { status: res.status, body: JSON.parse(res.body) as RangeAnswer['body'] }
}

/** Both stores answer every range from revision 1 to the current one (and one past it) alike. */
export async function sameHistory(t: Test, a: string, b: string, what: string): Promise<void> {
  const current = Number((await rangeAll(a, 0)).body.header!.revision)
  t.equal(Number((await rangeAll(b, 0)).body.header!.revision), current, `${what}: current revision`)
  for (let rev = 1; rev <= current + 1; rev++) {
    const [x, y] = await Promise.all([rangeAll(a, rev), rangeAll(b, rev)])
    t.same(
      { status: y.status, kvs: y.body.kvs, count: y.body.count, code: y.body.code, error: y.body.error },
      { status: x.status, kvs: x.body.kvs, count: x.body.count, code: x.body.code, error: x.body.error },
      `${what}: range at revision ${rev}`,
    )
  }
  const leases = async (url: string) => {
    const ttl = await call(url, '/v3/lease/timetolive', { ID: LEASE_ID, keys: true })
    // etcd lists a lease's keys from a Go map: in no fixed order
    return { granted: ttl.grantedTTL, keys: (ttl.keys as string[]).sort(), leases: (await call(url, '/v3/lease/leases', {})).leases }
  }
  t.same(await leases(b), await leases(a), `${what}: leases and their keys`)
}

export interface CliOutput {
  code: number | null
  stdout: string
  stderr: string
}

/** `env`: variables to set or override for this run. */
export function runCli(command: string, args: string[], env: Record<string, string> = {}): Promise<CliOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ETCDCTL_API: '3', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('latin1')))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

export const etcdgw = (args: string[], env?: Record<string, string>) => runCli(process.execPath, [MAIN_JS, ...args], env)
export const etcdctl = (args: string[], env?: Record<string, string>) => runCli(ETCDCTL, args, env)
