/**
 * A real S3-protocol server for the backup tests: s3rver (npm, a devDependency) in a process of its own on a
 * free loopback port, its objects on disk in a temp dir, so a test can stop it, pause it or kill it. It
 * speaks S3's REST protocol over HTTP (or HTTPS with a certificate), multipart uploads included, and refuses an
 * unknown access key; it does not check V4 signatures, list or abort incomplete multipart uploads (501, 405),
 * keep server-side encryption headers or implement S3's checksum API.
 */
import { readFileSync, watch } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { send } from './http.js'
import { nodeGet } from './tls-client.js'
import { launch, type RunningServer, type Teardown } from './managed-server.js'

const S3RVER_BIN = join(dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js')

/** s3rver's one account. */
export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' }

export interface S3Server extends RunningServer {
  bucket: string
  /** The flags `etcdgw backup` needs to reach it. */
  flags: string[]
  /** Its log so far, a line each ("Stored part 1 of <upload id> …", "Stored object "key" …"). */
  log(): string[]
  /** Resolves with the first line of its log from line `from` on that matches, as soon as it is written. */
  logged(pattern: RegExp, from?: number): Promise<string>
}

export async function startS3Server(opts: { teardown: Teardown; bucket?: string; tls?: { cert: string; key: string; ca: string } }): Promise<S3Server> {
  const bucket = opts.bucket ?? 'backups'
  let root = ''
  const server = await launch({
    what: 's3rver',
    command: process.execPath,
    scheme: opts.tls ? 'https' : 'http',
    portCount: 1,
    args: ([port], dataDir) => {
      root = dirname(dataDir)
      return [S3RVER_BIN, '-d', dataDir, '-a', '127.0.0.1', '-p', String(port), '--no-vhost-buckets', '--configure-bucket', bucket, ...(opts.tls ? ['--cert', opts.tls.cert, '--key', opts.tls.key] : [])]
    },
    // any answer means it serves (an unsigned GET / is refused)
    ready: async (url) => (opts.tls ? (await nodeGet(`${url}/`, { ca: opts.tls.ca })).status : (await send(url, '/', '', { method: 'GET', timeoutMs: 2_000 })).status) > 0,
    teardown: opts.teardown,
  })
  const logFile = join(root, 'server.log')
  // eslint-disable-next-line no-control-regex
  const log = () => readFileSync(logFile, 'utf8').replace(/\x1b\[[0-9;]*m/g, '').split('\n')
  const logged = async (pattern: RegExp, from = 0) => {
    for (;;) {
      // watched before it is read: a line written after the read wakes the wait
      const changed = new Promise<void>((resolve) => {
        const watcher = watch(logFile, () => {
          watcher.close()
          resolve()
        })
      })
      const line = log().slice(from).find((l) => pattern.test(l))
      if (line !== undefined) return line
      await changed
    }
  }
  return Object.assign(server, {
    bucket,
    flags: ['--s3-bucket', bucket, '--s3-endpoint', server.url, '--s3-force-path-style', '--s3-region', 'us-east-1', ...(opts.tls ? ['--s3-ca-file', opts.tls.ca] : [])],
    log,
    logged,
  })
}
