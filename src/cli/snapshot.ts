/** `etcdgw snapshot save|status|get|restore`: etcdctl's snapshot commands on etcd's db files; save takes the stream through a gateway. */
import type { Command } from 'commander'
import { saveSnapshotStream } from '../snapshot/save.js'
import { addAccessOptions, gatewayAccess, type GatewayAccess, endpointList, endpointsOption, fail, type AccessFlags, writeOutOption } from './gateway-client.js'
import { gatewaySnapshot } from './gateway-snapshot.js'
import { intArg, keyRange } from './kv-commands.js'
import { type KvFormat, printRange, type RangeBody } from './kv-output.js'
import { hexId, humanBytes, table } from './output.js'

/** Saves the snapshot a gateway streams into `file` (through `file.part`); resolves to the db's size. */
export function saveSnapshot(
  endpoint: string,
  file: string,
  onProgress?: (done: number, total: number) => void,
  tls: GatewayAccess = {},
): Promise<number> {
  return saveSnapshotStream(gatewaySnapshot(endpoint, tls), file, { onProgress })
}

/** Bytes so far of the total, redrawn in place on a terminal. */
export function progressBar(done: number, total: number): void {
  const width = 30
  const filled = total > 0 ? Math.round((done / total) * width) : width
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${humanBytes(done)} / ${humanBytes(total)}`)
}

export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('save, inspect and restore snapshots (as etcdctl snapshot)')

  addAccessOptions(snapshot.command('save <file>'))
    .description('stores a snapshot of the store behind a gateway (ours, or etcd\'s own) in <file>')
    .addOption(endpointsOption())
    .action(async (file: string, opts: { endpoints: string } & AccessFlags) => {
      const endpoints = endpointList(opts.endpoints)
      if (endpoints.length !== 1) fail('snapshot must be requested to one selected node, not multiple')
      const tls = gatewayAccess(opts)
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
    .description('hash, revision, total keys and size of a snapshot (an etcd db file), as etcdctl snapshot status')
    .addOption(writeOutOption(['simple', 'table', 'json']))
    .action((file: string, opts: { writeOut: string }) =>
      reported(async () => {
        // each command loads what only it needs when it runs: a save starts without the store's code
        const { snapshotStatus } = await import('../snapshot/status.js')
        const s = snapshotStatus(file)
        const hash = s.hash.toString(16)
        if (opts.writeOut === 'json') process.stdout.write(JSON.stringify(s) + '\n')
        else if (opts.writeOut === 'table') {
          const cells = [[hash, String(s.revision), String(s.totalKey), humanBytes(s.totalSize)]]
          process.stdout.write(table(['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE'], cells))
        } else process.stdout.write(`${hash}, ${s.revision}, ${s.totalKey}, ${humanBytes(s.totalSize)}\n`)
      }),
    )

  snapshot
    .command('get <file> <key> [range_end]')
    .description('reads keys from a snapshot without restoring it, with the output of etcdgw get')
    .option('--prefix', 'get keys with matching prefix')
    .option('--keys-only', 'get only the keys')
    .option('--rev <revision>', 'the revision to read at (default: the snapshot\'s)', intArg('revision'))
    .addOption(writeOutOption(['simple', 'json']))
    .action((file: string, key: string, rangeEnd: string | undefined, opts: { prefix?: boolean; keysOnly?: boolean; rev?: string; writeOut: KvFormat }) =>
      reported(async () => {
        const [{ snapshotRange }, { encoders }] = await Promise.all([import('../snapshot/get.js'), import('../http/codec/codecs.js')])
        const range = keyRange(key, rangeEnd, opts.prefix)
        const res = snapshotRange(file, {
          key: Buffer.from(range.key ?? '', 'base64'),
          rangeEnd: range.range_end === undefined ? undefined : Buffer.from(range.range_end, 'base64'),
          revision: Number(opts.rev ?? 0),
          keysOnly: opts.keysOnly === true,
        })
        printRange(JSON.parse(encoders.RangeResponse(res)) as RangeBody, opts.writeOut)
      }),
    )

  snapshot
    .command('restore <file>')
    .description('makes a new data dir for `etcdgw serve` from a snapshot taken from etcd or etcdgw (as etcdctl snapshot restore)')
    .option('--data-dir <dir>', 'the data dir to create; it must not exist (default: <name>.etcd)')
    .option('--name <name>', 'this member\'s name in --initial-cluster', 'default')
    .option('--initial-cluster <name=url,...>', 'the cluster the member and cluster IDs derive from, as etcd\'s', 'default=http://localhost:2380')
    .option('--initial-cluster-token <token>', 'the cluster token the IDs derive from', 'etcd-cluster')
    .option('--skip-hash-check', 'restore a db file without its sha256 trailer (e.g. copied from a data dir)', false)
    .action((file: string, opts: { dataDir?: string; name: string; initialCluster: string; initialClusterToken: string; skipHashCheck: boolean }) =>
      reported(async () => {
        const dataDir = opts.dataDir ?? `${opts.name}.etcd`
        const { restoreSnapshot } = await import('../snapshot/restore.js')
        const ids = await restoreSnapshot(file, { ...opts, dataDir })
        process.stdout.write(`restored snapshot ${file} into ${dataDir} (member ${hexId(ids.memberId)}, cluster ${hexId(ids.clusterId)})\n`)
      }),
    )
}

/** Runs a command; whatever a file did to it ends as one line on stderr and exit code 1, never a stack trace. */
export async function reported(action: () => void | Promise<void>): Promise<void> {
  try {
    await action()
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err))
  }
}
