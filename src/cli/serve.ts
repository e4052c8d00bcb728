/** `etcdgw serve`: the etcd v3 JSON gateway on the embedded store. */
import type { AddressInfo } from 'node:net'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app.js'
import type { Backend } from '../backend/backend.js'
import { openEmbeddedBackend } from '../backend/embedded/index.js'
import { openRemoteBackend } from '../backend/remote/index.js'
import { ConfigError, resolveServeConfig, type ServeConfig, type ServeFlags, serveOptions } from '../config.js'

/** Exit status for unusable flags (as etcd and most CLIs use for usage errors). */
const usageExitCode = 2

export function registerServeCommand(program: Command): void {
  const serve = program
    .command('serve')
    .description('serve the etcd v3 API (JSON gateway) on the embedded store, or in front of etcd with --endpoints')
    .exitOverride((err) => {
      // commander has already printed its message (unknown flag, missing value, bad choice).
      process.exit(err.exitCode === 0 ? 0 : usageExitCode)
    })
  for (const option of serveOptions()) serve.addOption(option)
  serve.action(async (flags: ServeFlags) => {
    let config: ServeConfig
    try {
      config = resolveServeConfig(flags)
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      process.stderr.write(`etcdgw serve: ${err.message}\n`)
      process.exit(usageExitCode)
    }
    await serveUntilSignalled(config)
  })
}

async function serveUntilSignalled(config: ServeConfig): Promise<void> {
  const backend = await openBackend(config)
  const apps: FastifyInstance[] = []
  let stopping = false
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`etcdgw: ${signal} again, exiting without waiting\n`)
      process.exit(1)
    }
    stopping = true
    process.stdout.write(`etcdgw: ${signal}: finishing in-flight requests and closing the store\n`)
    await shutdown(apps, backend)
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  const logger = { level: config.logLevel }
  try {
    for (const url of config.listenClientUrls) {
      const app = buildApp({
        backend,
        maxRequestBytes: config.maxRequestBytes,
        watchSendBufferBytes: config.watchSendBufferBytes,
        logger,
      })
      apps.push(app)
      await app.listen({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 80) })
    }
  } catch (err) {
    await shutdown(apps, backend)
    throw err
  }

  const listening = apps.map((app) => urlOf(app.server.address() as AddressInfo))
  const store = config.remote ? `etcd at ${config.remote.endpoints.join(',')}` : `data dir ${config.dataDir}`
  for (const url of listening) process.stdout.write(`etcdgw: serving the etcd v3 API on ${url} (${store})\n`)
  process.stdout.write(
    `etcdgw: try: curl -s -X POST ${listening[0]}/v3/kv/put -d '{"key":"Zm9v","value":"YmFy"}'` +
      ` && curl -s -X POST ${listening[0]}/v3/kv/range -d '{"key":"Zm9v"}'\n`,
  )
}

/** etcd's own request timeout for the remote backend: a write without quorum fails after 7 s there too. */
const REMOTE_REQUEST_TIMEOUT_MS = 7_000

function openBackend(config: ServeConfig): Promise<Backend> {
  if (config.remote) return openRemoteBackend({ ...config.remote, requestTimeoutMs: REMOTE_REQUEST_TIMEOUT_MS })
  return openEmbeddedBackend({
    dataDir: config.dataDir,
    name: config.name,
    maxTxnOps: config.maxTxnOps,
    quotaBackendBytes: config.quotaBackendBytes,
    progressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
    clientUrls: config.advertiseClientUrls.map((u) => u.origin),
  })
}

async function shutdown(apps: FastifyInstance[], backend: Backend): Promise<void> {
  await Promise.all(apps.map((app) => app.close()))
  await backend.close()
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
