/**
 * The two servers every stream conformance test compares: real etcd, and etcdgw on its embedded
 * backend (in this process, on a real port).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { type AppOptions, buildApp } from '../../../src/app.js'
import type { Backend } from '../../../src/backend/backend.js'
import { type EmbeddedOptions, openEmbeddedBackend } from '../../../src/backend/embedded/index.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'

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

export async function startOurs(t: Test, opts: GatewayOptions = {}): Promise<Server & { backend(): Backend }> {
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
