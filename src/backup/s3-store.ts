/**
 * Backups in an S3 bucket (AWS, or any store speaking the S3 REST protocol): the directory's names under a
 * prefix, each snapshot's record as a `<name>.json` object written only once the upload has been read back
 * and checked. A snapshot larger than a part goes up as a multipart upload, which makes no object until it
 * is completed at the end: a killed upload leaves none. Uploads left incomplete that way are aborted after
 * the next verified backup. Credentials come from the AWS SDK's chain (environment, profile, SSO, instance role).
 */
import { createHash } from 'node:crypto'
import { createReadStream, readFileSync, rmSync } from 'node:fs'
import { open, rename } from 'node:fs/promises'
import { STATUS_CODES } from 'node:http'
import { Agent } from 'node:https'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { syncPath } from '../sync-path.js'
import { type BackupEntry, backupEntry, type BackupRecord, backupTime, byTime, makeStagingDir, releaseStagingDir, tempName } from './backup-files.js'
import type { BackupStore } from './backup-store.js'
import type { S3Options } from './s3-options.js'

/** Parts in flight at once: memory is partSize times this. */
const QUEUE_SIZE = 4

export class S3Store implements BackupStore {
  readonly kind = 's3'
  readonly description: string
  private readonly client: S3Client

  constructor(private readonly opts: S3Options) {
    this.description = `s3://${opts.bucket}/${opts.prefix}`
    this.client = new S3Client({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle === true,
      requestHandler: {
        connectionTimeout: 10_000,
        requestTimeout: 60_000,
        ...(opts.caFile ? { httpsAgent: new Agent({ keepAlive: true, ca: readFileSync(opts.caFile) }) } : {}),
      },
    })
  }

  private key(name: string): string {
    return this.opts.prefix + name
  }

  private url(name: string): string {
    return `s3://${this.opts.bucket}/${this.key(name)}`
  }

  private get encryption(): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
    return {
      ...(this.opts.sse ? { ServerSideEncryption: this.opts.sse } : {}),
      ...(this.opts.sseKmsKeyId ? { SSEKMSKeyId: this.opts.sseKmsKeyId } : {}),
    }
  }

  async list(): Promise<BackupEntry[]> {
    const sizes = new Map<string, number>()
    let token: string | undefined
    do {
      const page = await this.call((c) => c.send(new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: this.opts.prefix, Delimiter: '/', ContinuationToken: token })))
      for (const o of page.Contents ?? []) sizes.set(o.Key!.slice(this.opts.prefix.length), o.Size ?? 0)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    const names = [...sizes.keys()].filter((name) => backupTime(name))
    const entries = await Promise.all(
      names.map(async (name) => backupEntry(name, this.url(name), sizes.get(name)!, sizes.has(`${name}.json`) ? await this.readRecord(name) : undefined)),
    )
    return entries.filter((e): e is BackupEntry => e !== undefined).sort(byTime)
  }

  private async readRecord(name: string): Promise<BackupRecord | undefined> {
    try {
      const got = await this.call((c) => c.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(`${name}.json`) })))
      return JSON.parse(await got.Body!.transformToString()) as BackupRecord
    } catch (err) {
      if (notFound(err) || err instanceof SyntaxError) return undefined
      throw err
    }
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.call((c) => c.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.key(name) })))
      return true
    } catch (err) {
      if (notFound(err)) return false
      throw err
    }
  }

  /** Uploads a verified snapshot, then reads it back: its size, its sha256 metadata and every byte's sha256. */
  async upload(path: string, record: BackupRecord): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.opts.bucket,
        Key: this.key(record.name),
        Body: createReadStream(path),
        ContentType: 'application/octet-stream',
        Metadata: { sha256: record.sha256, revision: String(record.revision) },
        ...this.encryption,
      },
      partSize: this.opts.partSize,
      queueSize: QUEUE_SIZE,
    })
    await this.call(() => upload.done())
    await this.readBack(record)
  }

  private async readBack(record: BackupRecord): Promise<void> {
    const url = this.url(record.name)
    const head = await this.call((c) => c.send(new HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.key(record.name) })))
    if (head.ContentLength !== record.fileBytes) throw new Error(`${url}: read back ${head.ContentLength} bytes, ${record.fileBytes} uploaded`)
    if (head.Metadata?.sha256 !== record.sha256) throw new Error(`${url}: its sha256 metadata is ${head.Metadata?.sha256}, not ${record.sha256}`)
    const got = await this.call((c) => c.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(record.name) })))
    const { bytes, data, trailer } = await trailerCheck(got.Body as Readable)
    if (bytes !== record.fileBytes || data !== record.sha256 || trailer !== record.sha256) {
      throw new Error(`${url}: read back ${bytes} bytes whose sha256 is ${data} and trailer ${trailer}; uploaded ${record.fileBytes} bytes with sha256 ${record.sha256}`)
    }
  }

  async writeRecord(record: BackupRecord): Promise<void> {
    const put = new PutObjectCommand({
      Bucket: this.opts.bucket,
      Key: this.key(`${record.name}.json`),
      Body: JSON.stringify(record, null, 2) + '\n',
      ContentType: 'application/json',
      ...this.encryption,
    })
    await this.call((c) => c.send(put))
  }

  async remove(entry: BackupEntry): Promise<void> {
    for (const key of [this.key(entry.name), this.key(`${entry.name}.json`)]) await this.call((c) => c.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key })))
  }

  /** Downloads into `dir` under a temp name, renamed to the backup's name once whole; returns its path. */
  async download(entry: BackupEntry, dir: string): Promise<string> {
    const path = join(dir, entry.name)
    const temp = join(dir, tempName(entry.name))
    const got = await this.call((c) => c.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(entry.name) })))
    const out = await open(temp, 'w', 0o600)
    try {
      for await (const chunk of got.Body as Readable) await out.write(chunk as Buffer)
      await out.sync()
      await out.close()
      await rename(temp, path)
      syncPath(dir)
      return path
    } catch (err) {
      await out.close().catch(() => undefined)
      rmSync(temp, { force: true })
      throw err
    }
  }

  async localCopy(entry: BackupEntry): Promise<{ path: string; release: () => void }> {
    const dir = makeStagingDir()
    try {
      return { path: await this.download(entry, dir), release: () => releaseStagingDir(dir) }
    } catch (err) {
      releaseStagingDir(dir)
      throw err
    }
  }

  /**
   * Aborts the multipart uploads of backups under the prefix begun before `before` (a verified backup's
   * time): a writer killed mid-upload left them. A store that does not list uploads has none to abort here.
   */
  async abortStaleUploads(before: Date): Promise<string[]> {
    const aborted: string[] = []
    let keyMarker: string | undefined
    let uploadIdMarker: string | undefined
    do {
      let page
      try {
        page = await this.call((c) => c.send(new ListMultipartUploadsCommand({ Bucket: this.opts.bucket, Prefix: this.opts.prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker })))
      } catch (err) {
        if ((err as Error).name === 'NotImplemented') return aborted
        throw err
      }
      for (const u of page.Uploads ?? []) {
        const name = u.Key!.slice(this.opts.prefix.length)
        if (!backupTime(name) || !u.Initiated || u.Initiated.getTime() >= before.getTime()) continue
        await this.call((c) => c.send(new AbortMultipartUploadCommand({ Bucket: this.opts.bucket, Key: u.Key, UploadId: u.UploadId })))
        aborted.push(name)
      }
      ;[keyMarker, uploadIdMarker] = page.IsTruncated ? [page.NextKeyMarker, page.NextUploadIdMarker] : [undefined, undefined]
    } while (keyMarker)
    return aborted
  }

  close(): void {
    this.client.destroy()
  }

  /** A request; an error the store answered says its HTTP status and S3 code (a HEAD's has no body to tell more). */
  private async call<T>(request: (client: S3Client) => Promise<T>): Promise<T> {
    try {
      return await request(this.client)
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } }
      const status = e.$metadata?.httpStatusCode
      if (status === undefined) throw err
      const code = e.name && e.name !== 'Unknown' ? e.name : (STATUS_CODES[status] ?? 'Unknown')
      const detail = e.message && e.message !== 'UnknownError' ? `: ${e.message}` : ''
      throw Object.assign(new Error(`HTTP ${status} ${code}${detail}`), { name: e.name })
    }
  }
}

function notFound(err: unknown): boolean {
  const name = (err as { name?: string }).name
  return name === 'NoSuchKey' || name === 'NotFound'
}

/** A snapshot's bytes read through: how many, the sha256 of all but the last 32, and those 32 (hex). */
async function trailerCheck(body: Readable): Promise<{ bytes: number; data: string; trailer: string }> {
  const sha = createHash('sha256')
  let tail = Buffer.alloc(0)
  let bytes = 0
  for await (const chunk of body) {
    const joined = Buffer.concat([tail, chunk as Buffer])
    bytes += (chunk as Buffer).length
    sha.update(joined.subarray(0, Math.max(0, joined.length - 32)))
    tail = joined.subarray(Math.max(0, joined.length - 32))
  }
  return { bytes, data: sha.digest('hex'), trailer: tail.toString('hex') }
}
