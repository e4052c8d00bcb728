import { fileURLToPath } from 'node:url'
import { send } from './http.js'
import { launch, type RunningServer, type Teardown } from './managed-server.js'

export type { RunningServer, Teardown } from './managed-server.js'

/**
 * The compiled CLI, as `npm start` runs it (this file lives at dist/test/helpers/). ETCDGW_MAIN
 * points the tests at another build.
 */
export const MAIN_JS = process.env.ETCDGW_MAIN ?? fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface GatewayOptions {
  maxRequestBytes?: number
  /** More `serve` flags, passed verbatim. */
  flags?: string[]
  teardown?: Teardown
  startTimeoutMs?: number
}

/**
 * Start our server as users do (`node dist/src/main.js serve ...`) on a free loopback port with a
 * temporary data dir; ready once it answers HTTP at all.
 */
export function startGateway(options: GatewayOptions = {}): Promise<RunningServer> {
  return launch({
    what: 'etcdgw',
    command: process.execPath,
    portCount: 1,
    args: ([port], dataDir) => [
      MAIN_JS,
      'serve',
      '--listen-client-urls', `http://127.0.0.1:${port}`,
      '--data-dir', dataDir,
      ...(options.maxRequestBytes !== undefined ? ['--max-request-bytes', String(options.maxRequestBytes)] : []),
      ...(options.flags ?? []),
    ],
    ready: async (url) => (await send(url, '/v3/kv/range', '{"key":"AA=="}', { timeoutMs: 2_000 })).status > 0,
    startTimeoutMs: options.startTimeoutMs,
    teardown: options.teardown,
  })
}
