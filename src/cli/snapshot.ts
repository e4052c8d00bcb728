/** `etcdgw snapshot save|status|restore`: etcdctl's snapshot commands, the stream taken through a gateway. */
import { createHash } from 'node:crypto'
import { createWriteStream, renameSync, rmSync } from 'node:fs'
import type { Command } from 'commander'
import { restoreSnapshot, SnapshotFileError, snapshotStatus } from '../backend/embedded/snapshot-file.js'
import { addTlsOptions, clientTls, type ClientTls, endpointList, endpointsOption, fail, post, type TlsFlags, writeOutOption } from './gateway-client.js'
import { humanBytes, table } from './output.js'

interface StreamMessage {
  result?: { remaining_bytes?: string; blob?: string }
  error?: { message?: string; grpc_code?: number }
}

/**
 * Streams /v3/maintenance/snapshot into `file` (through `file.part`), message by message. The file
 * gets every blob, the trailing sha256 included, as etcdctl writes it; the sha256 is checked first.
 */
export async function saveSnapshot(
  endpoint: string,
  file: string,
  onProgress?: (done: number, total: number) => void,
  tls: ClientTls = {},
): Promise<number> {
  const res = await post(`${endpoint}/v3/maintenance/snapshot`, '{}', tls)
  if (res.statusCode !== 200) {
    const chunks: Buffer[] = []
    for await (const chunk of res) chunks.push(chunk as Buffer)
    throw new Error(`snapshot: ${res.statusCode} ${Buffer.concat(chunks).toString().trim()}`)
  }
  const part = file + '.part'
  const out = createWriteStream(part, { mode: 0o600 })
  const sha = createHash('sha256')
  let written = 0
  let digest: Buffer | undefined
  let pending: Buffer | undefined
  let text = ''
  const write = (b: Buffer) =>
    new Promise<void>((resolve, reject) => out.write(b, (err) => (err ? reject(err) : resolve())))
  try {
    const decoder = new TextDecoder()
    for await (const bytes of res as AsyncIterable<Buffer>) {
      text += decoder.decode(bytes, { stream: true })
      let nl: number
      while ((nl = text.indexOf('\n')) !== -1) {
        const line = text.slice(0, nl)
        text = text.slice(nl + 1)
        const msg = JSON.parse(line) as StreamMessage
        if (!msg.result) throw new Error(`snapshot: ${msg.error?.message ?? line}`)
        // the blob before the last one is data; the last is the sha256 of all data
        if (pending) {
          sha.update(pending)
          written += pending.length
          await write(pending)
        }
        pending = Buffer.from(msg.result.blob ?? '', 'base64')
        onProgress?.(written + pending.length, written + pending.length + Number(msg.result.remaining_bytes ?? 0))
      }
    }
    if (text.trim() !== '') {
      const msg = JSON.parse(text) as StreamMessage
      throw new Error(`snapshot: ${msg.error?.message ?? text}`)
    }
    digest = pending
    if (!digest || digest.length !== 32) throw new Error('snapshot: the stream ended without its sha256 message')
    if (!sha.digest().equals(digest)) throw new Error('snapshot: sha256 mismatch: the stream was damaged')
    await write(digest)
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    renameSync(part, file)
    return written
  } catch (err) {
    out.destroy()
    rmSync(part, { force: true })
    throw err
  }
}

function progressBar(done: number, total: number): void {
  const width = 30
  const filled = total > 0 ? Math.round((done / total) * width) : width
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${humanBytes(done)} / ${humanBytes(total)}`)
}

export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('save, inspect and restore snapshots (as etcdctl snapshot)')

  addTlsOptions(snapshot.command('save <file>'))
    .description('stores a snapshot of the store behind a gateway (ours, or etcd\'s own) in <file>')
    .addOption(endpointsOption())
    .action(async (file: string, opts: { endpoints: string } & TlsFlags) => {
      const endpoints = endpointList(opts.endpoints)
      if (endpoints.length !== 1) fail('snapshot must be requested to one selected node, not multiple')
      const tls = clientTls(opts)
      const tty = process.stderr.isTTY === true
      try {
        const size = await saveSnapshot(endpoints[0]!, file, tty ? progressBar : undefined, tls)
        if (tty) process.stderr.write('\n')
        process.stdout.write(`Snapshot saved at ${file} (${humanBytes(size)}, sha256 checked)\n`)
      } catch (err) {
        fail((err as Error).message)
      }
    })

  snapshot
    .command('status <file>')
    .description('hash, revision, total keys and size of an etcdgw snapshot file')
    .addOption(writeOutOption(['simple', 'table', 'json']))
    .action(async (file: string, opts: { writeOut: string }) => {
      try {
        const s = await snapshotStatus(file)
        const hash = s.hash.toString(16)
        if (opts.writeOut === 'json') process.stdout.write(JSON.stringify(s) + '\n')
        else if (opts.writeOut === 'table') {
          const cells = [[hash, String(s.revision), String(s.totalKey), humanBytes(s.totalSize)]]
          process.stdout.write(table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], cells))
        } else process.stdout.write(`${hash}, ${s.revision}, ${s.totalKey}, ${humanBytes(s.totalSize)}\n`)
      } catch (err) {
        if (!(err instanceof SnapshotFileError)) throw err
        fail(err.message)
      }
    })

  snapshot
    .command('restore <file>')
    .description('makes a new data dir for `etcdgw serve` from an etcdgw snapshot (new member and cluster IDs)')
    .requiredOption('--data-dir <dir>', 'the data dir to create (must not exist or be empty)')
    .action(async (file: string, opts: { dataDir: string }) => {
      try {
        const ids = await restoreSnapshot(file, opts.dataDir)
        process.stdout.write(
          `restored snapshot ${file} into ${opts.dataDir} (member ${ids.memberId.toString(16)}, cluster ${ids.clusterId.toString(16)})\n`,
        )
      } catch (err) {
        if (!(err instanceof SnapshotFileError)) throw err
        fail(err.message)
      }
    })
}
