/**
 * Remote mode: the files etcdgw uses to reach etcd (--cacert, --cert, --key) are followed like the served
 * ones. When they change (a renewed client certificate, a rotated CA), new connections to etcd use them;
 * requests and watches already running keep their connection. Unusable files are logged and ignored.
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { RemoteConfig } from '../config.js'

/** The TLS files of the connection to etcd. */
type RemoteTlsFiles = Pick<RemoteConfig, 'cacert' | 'cert' | 'key'>
import { expiryWarnings, trackCertificates, type CertInUse } from './cert-expiry.js'
import { FileFollower, type FollowOptions } from './file-follower.js'
import type { TlsLog } from './reloading-tls.js'

export interface RemoteTlsFollower {
  close(): Promise<void>
}

/**
 * Starts following; `reload` re-reads the files into the backend, returns whether their contents changed,
 * and throws when they cannot be used.
 */
export async function followRemoteTls(
  config: RemoteTlsFiles,
  reload: () => boolean,
  log: TlsLog,
  options: FollowOptions = {},
): Promise<RemoteTlsFollower | undefined> {
  const files = [config.cacert, config.cert, config.key].filter((f): f is string => f !== undefined)
  if (files.length === 0) return undefined
  let inUse = clientCertificates(config)
  const warn = () => {
    for (const warning of expiryWarnings(inUse, new Date())) log.warn({}, warning)
  }
  warn()
  const untrack = trackCertificates(() => inUse)
  const follower = await FileFollower.open(files, async () => {
    try {
      if (!reload()) return
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'TLS files for etcd changed but cannot be used; new connections keep the previous ones')
      return
    }
    inUse = clientCertificates(config)
    log.info({ cert: config.cert, serial: inUse[0]?.cert.serialNumber }, 'TLS files for etcd reloaded; new connections to etcd use them')
    warn()
  })
  follower.start(log, options)
  return {
    async close() {
      untrack()
      await follower.close()
    },
  }
}

function clientCertificates(config: RemoteTlsFiles): CertInUse[] {
  if (config.cert === undefined) return []
  return [{ role: 'client', file: config.cert, cert: new X509Certificate(readFileSync(config.cert)) }]
}
