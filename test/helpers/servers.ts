/**
 * The servers every stream conformance test compares: real etcd, and etcdgw (in this process, on a
 * real port) on its embedded backend or in front of a real etcd of its own.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { type AppOptions, buildApp } from '../../src/app.js'
import type { Backend } from '../../src/backend/backend.js'
import { type EmbeddedOptions, openEmbeddedBackend } from '../../src/backend/embedded/index.js'
import { openRemoteBackend } from '../../src/backend/remote/index.js'
import { etcdMissing, startEtcd } from './etcd.js'

export { etcdMissing }

export interface Server {
  readonly url: string
  /** Stops and starts again on the same data (and port). */
  restart(): Promise<void>
  stop(): Promise<void>
}

export async function startRealEtcd(t: Test, flags: string[] = []): Promise<Server> {
  return startEtcd({ flags, teardown: t })
}

export interface GatewayOptions {
  backend?: Partial<EmbeddedOptions>
  app?: Partial<AppOptions>
}

export async function startOurs(
  t: Test,
  opts: GatewayOptions = {},
): Promise<Server & { backend(): Backend; app(): ReturnType<typeof buildApp>; dataDir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-stream-'))
  let backend: Backend
  let app: ReturnType<typeof buildApp>
  let port = 0
  const start = async () => {
    backend = await openEmbeddedBackend({ dataDir: dir, name: 'default', maxTxnOps: 128, ...opts.backend })
    app = buildApp({ backend, maxRequestBytes: 1572864, ...opts.app })
    await app.listen({ host: '127.0.0.1', port })
    port = (app.server.address() as AddressInfo).port
  }
  const stop = async () => {
    await app.close()
    await backend.close()
  }
  await start()
  let stopped = false
  t.teardown(async () => {
    if (!stopped) await stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    backend: () => backend,
    app: () => app,
    dataDir: dir,
    restart: async () => {
      await stop()
      await start()
    },
    stop: async () => {
      stopped = true
      await stop()
    },
  }
}

/** etcdgw in front of a fresh 1-node etcd (so its revisions follow the reference's). */
export async function startOursRemote(t: Test, flags: string[] = [], prefixes?: Buffer[]): Promise<Server> {
  return (await startOursRemoteWithUpstream(t, flags, prefixes)).ours
}

/** startOursRemote, and the etcd it fronts. */
export async function startOursRemoteWithUpstream(
  t: Test,
  flags: string[] = [],
  prefixes?: Buffer[],
): Promise<{ ours: Server; upstream: Server & { url: string } }> {
  const upstream = await startEtcd({ flags, teardown: t })
  const backend = await openRemoteBackend({ endpoints: [upstream.url], requestTimeoutMs: 7_000, replica: { prefixes } })
  const app = buildApp({ backend, maxRequestBytes: 1572864 })
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await app.close()
    await backend.close()
  }
  t.teardown(close)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const ours = {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    restart: () => upstream.restart(),
    stop: async () => {
      await close()
      await upstream.stop()
    },
  }
  return { ours, upstream }
}

/** Kept by the replica of the third target: some of the stream scenarios' keys (a/, c/, e/, f/, i/), not the others. */
const SOME_PREFIXES = ['a/', 'c/', 'e/', 'f/', 'i/'].map((p) => Buffer.from(p))

/** The etcdgw variants each stream conformance test runs against. */
export const OUR_TARGETS = [
  ['etcdgw', startOurs],
  ['etcdgw remote', startOursRemote],
  ['etcdgw remote, replica of some prefixes', (t: Test) => startOursRemote(t, [], SOME_PREFIXES)],
] as const
