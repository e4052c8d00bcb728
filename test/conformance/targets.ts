import type { ServerOptions } from './case.js'
import { startEtcd } from '../helpers/etcd.js'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import type { Backend } from '../../src/backend/backend.js'
import { openRemoteBackend } from '../../src/backend/remote/index.js'
import { startGateway } from '../helpers/gateway.js'
import type { RunningServer } from '../helpers/managed-server.js'

/**
 * The servers a conformance case can run on. `etcdgw`: ours on the embedded store; `remote`: ours in
 * front of a fresh 1-node etcd (so revisions start where the reference's do); `etcd`: a second real
 * etcd, which checks the runner and its normalization.
 */
/** `etcdgw serve` defaults (--max-request-bytes, the remote request deadline). */
const DEFAULT_MAX_REQUEST_BYTES = 1_572_864
const REQUEST_TIMEOUT_MS = 7_000

export const TARGETS = ['etcdgw', 'remote', 'etcd'] as const
export type Target = (typeof TARGETS)[number]

export function parseTarget(name: string): Target {
  if ((TARGETS as readonly string[]).includes(name)) return name as Target
  throw new Error(`CONFORMANCE_TARGET must be one of ${TARGETS.join(', ')}, not ${name}`)
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
      return startGateway({ maxRequestBytes: options.maxRequestBytes })
    case 'remote':
      return startRemote(options)
  }
}

/**
 * etcd with the case's flags (its own request limit applies upstream too) and our server in front of
 * it with the same limit. Ours runs in this process, as `etcdgw serve --endpoints` would build it:
 * spawning Node per case costs ~0.4 s of start-up each, more than the case itself. Stopping it stops
 * both.
 */
async function startRemote(options: ServerOptions): Promise<RunningServer> {
  const upstream = await startEtcdFor(options)
  let backend: Backend | undefined
  let app: FastifyInstance | undefined
  const stopOurs = async () => {
    await app?.close()
    await backend?.close()
  }
  try {
    backend = await openRemoteBackend({ endpoints: [upstream.url], requestTimeoutMs: REQUEST_TIMEOUT_MS })
    app = buildApp({ backend, maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES })
    await app.listen({ host: '127.0.0.1', port: 0 })
  } catch (err) {
    await stopOurs()
    await upstream.stop()
    throw err
  }
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
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
