import type { ServerOptions } from './case.js'
import { startEtcd } from '../helpers/etcd.js'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import type { Backend } from '../../src/backend/backend.js'
import { openRemoteBackend } from '../../src/backend/remote/index.js'
import { openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RunningServer } from '../helpers/managed-server.js'

/**
 * The servers a conformance case can run on. `etcdgw`: ours on the embedded store; `remote`: ours in
 * front of a fresh 1-node etcd (so revisions start where the reference's do); `remote-prefixes`: the
 * same with a replica of some prefixes only (REPLICA_PREFIXES), so that some cases are answered by the
 * replica and the rest by etcd; `etcd`: a second real etcd, which checks the runner and its normalization.
 */
/** `etcdgw serve` defaults (--max-request-bytes, the remote request deadline). */
const DEFAULT_MAX_REQUEST_BYTES = 1_572_864
const REQUEST_TIMEOUT_MS = 7_000

export const TARGETS = ['etcdgw', 'remote', 'remote-prefixes', 'etcd'] as const
/** The cases' keys `a` and `ab` are kept, as is `k1` of the sort cases; `b`, `c`, `zz`, `k2`, `k3` are not. */
export const REPLICA_PREFIXES = ['a', 'k1'].map((p) => Buffer.from(p))
export type Target = (typeof TARGETS)[number]
/** Every way ours serves: the targets a conformance file runs unless told otherwise. */
export const DEFAULT_TARGETS: Target[] = ['etcdgw', 'remote', 'remote-prefixes']

/** A comma-separated list of distinct targets (CONFORMANCE_TARGET=etcd,remote). */
export function parseTargets(list: string): Target[] {
  const names = list.split(',').map((name) => name.trim())
  for (const name of names) {
    if (!(TARGETS as readonly string[]).includes(name)) {
      throw new Error(`CONFORMANCE_TARGET must list targets among ${TARGETS.join(', ')}, not ${JSON.stringify(name)}`)
    }
  }
  if (new Set(names).size !== names.length) throw new Error(`CONFORMANCE_TARGET names a target twice: ${list}`)
  return names as Target[]
}

export function startEtcdFor(options: ServerOptions): Promise<RunningServer> {
  const flags = options.maxRequestBytes !== undefined ? ['--max-request-bytes', String(options.maxRequestBytes)] : []
  return startEtcd({ fastElection: true, flags })
}

export function startTargetFor(target: Target, options: ServerOptions): Promise<RunningServer> {
  switch (target) {
    case 'etcd':
      return startEtcdFor(options)
    case 'etcdgw':
      return startEmbedded(options)
    case 'remote':
      return startRemote(options)
    case 'remote-prefixes':
      return startRemote(options, REPLICA_PREFIXES)
  }
}

/**
 * Ours on a fresh embedded store in a temporary directory, built in this process as `etcdgw serve`
 * builds it: spawning Node per case costs ~0.4 s of start-up each, more than the case itself. The CLI
 * path is covered by the serve, random differential, crash and restart tests.
 */
async function startEmbedded(options: ServerOptions): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'etcdgw-conformance-'))
  let served: InProcess | undefined
  try {
    served = await serveInProcess(
      await openEmbeddedBackend({ dataDir, name: 'default', maxTxnOps: 128 }),
      options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    )
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true })
    throw err
  }
  const { url, stop } = served
  const stopAndRemove = async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
  }
  return {
    url,
    pid: process.pid,
    dataDir,
    stop: stopAndRemove,
    stopGracefully: stopAndRemove,
    kill: stopAndRemove,
    restart: () => Promise.reject(new Error('the in-process conformance target cannot restart')),
  }
}

interface InProcess {
  url: string
  stop(): Promise<void>
}

/** `backend` behind our HTTP app on a free loopback port; stop() closes both (also when listen fails). */
async function serveInProcess(backend: Backend, maxRequestBytes: number): Promise<InProcess> {
  const app = buildApp({ backend, maxRequestBytes })
  const stop = async () => {
    await app.close()
    await backend.close()
  }
  try {
    await app.listen({ host: '127.0.0.1', port: 0 })
  } catch (err) {
    await stop()
    throw err
  }
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, stop }
}

/**
 * etcd with the case's flags (its own request limit applies upstream too) and our server in front of
 * it with the same limit, in this process as for the embedded target. Stopping it stops both.
 */
async function startRemote(options: ServerOptions, prefixes?: Buffer[]): Promise<RunningServer> {
  const upstream = await startEtcdFor(options)
  let served: InProcess
  try {
    const backend = await openRemoteBackend({ endpoints: [upstream.url], requestTimeoutMs: REQUEST_TIMEOUT_MS, replica: { prefixes } })
    served = await serveInProcess(backend, options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES)
  } catch (err) {
    await upstream.stop()
    throw err
  }
  const { url, stop: stopOurs } = served
  const stopBoth = async (stopUpstream: () => Promise<void>) => {
    await stopOurs()
    await stopUpstream()
  }
  return {
    url,
    pid: process.pid,
    dataDir: upstream.dataDir,
    stop: () => stopBoth(() => upstream.stop()),
    stopGracefully: () => stopBoth(() => upstream.stopGracefully()),
    kill: (signal) => stopBoth(() => upstream.kill(signal)),
    restart: () => Promise.reject(new Error('the remote conformance target cannot restart')),
  }
}
