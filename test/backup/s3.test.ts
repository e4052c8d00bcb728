/**
 * Backups of a real etcd kept in a real S3-protocol server (s3rver, in its own process on loopback): uploaded,
 * read back and recorded; listed by where they are; restored from the bucket into the embedded store and into
 * a new etcd member, both answering as etcd did; retention in the bucket; multipart uploads; a store that is
 * down, refuses the credentials or cannot be trusted, and a directory that cannot be written, each failing
 * alone; a kill -9 mid-upload leaving no object; and `backup run`'s metrics on an https URL.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import t from 'tap'
import { listBackups } from '../../src/backup/backup-files.js'
import { type BackupLog, BackupService } from '../../src/backup/backup-service.js'
import { MIN_PART_SIZE } from '../../src/backup/s3-options.js'
import { S3Store } from '../../src/backup/s3-store.js'
import { etcdSource, type SnapshotSource } from '../../src/backup/sources.js'
import { ETCD_BIN, etcdMissing, startEtcd } from '../helpers/etcd.js'
import { MAIN_JS, startGateway } from '../helpers/gateway.js'
import { startByteGate } from '../helpers/byte-gate.js'
import { post, send } from '../helpers/http.js'
import { launch } from '../helpers/managed-server.js'
import { freePort, guardChild } from '../helpers/process.js'
import { applyWorkload, etcdctl, etcdgw, sameHistory } from '../helpers/snapshot-workload.js'
import { nodeGet } from '../helpers/tls-client.js'
import { makeTestPki } from '../helpers/tls-certs.js'
import { cannotMount, smallDisk } from '../helpers/tmpfs.js'
import { S3_CREDENTIALS, startS3Server } from '../helpers/s3-server.js'

const missing = etcdMissing()
// the AWS SDK's credential chain reads these, here and in the CLIs started from here
Object.assign(process.env, S3_CREDENTIALS)

/** Backups named a minute apart, so several fit in one test second. */
function minutes(start = Date.UTC(2026, 0, 1)) {
  let at = start
  return () => new Date((at += 60_000))
}

t.test('backups in an S3 bucket', { skip: missing }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'etcdgw-backup-s3-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  // a CA and a server certificate for the https cases, made while the servers start
  const [etcd, s3, pki] = await Promise.all([startEtcd({ teardown: t, fastElection: true }), startS3Server({ teardown: t }), makeTestPki()])
  t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }))
  await applyWorkload(etcd.url)
  const source = await etcdSource({ endpoints: [etcd.url], requestTimeoutMs: 5_000 })
  t.teardown(() => source.close())
  const client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1' })
  t.teardown(() => client.destroy())
  const keys = async (prefix: string) => ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort()
  const object = async (key: string) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToByteArray())
  const store = (prefix: string) => {
    const s = new S3Store({ bucket: s3.bucket, prefix, endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', partSize: MIN_PART_SIZE })
    t.teardown(() => s.close())
    return s
  }
  const service = (opts: Partial<ConstructorParameters<typeof BackupService>[0]>) => {
    const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = []
    const log: BackupLog = (level, fields, msg) => void lines.push({ level, fields, msg })
    return { lines, svc: new BackupService({ source, retention: {}, log, now: minutes(), ...opts }) }
  }

  t.test('backup now into a directory and a bucket: both hold it, read back and recorded; backup list says where', async (t) => {
    const dir = join(tmp, 'both')
    const r = await etcdgw(['backup', 'now', '--endpoints', etcd.url, '--dir', dir, ...s3.flags, '--s3-prefix', 'both'])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, `kept in ${dir}\nkept in s3://backups/both/\n`)
    const [entry] = listBackups(dir)
    const name = entry!.name
    t.same(await keys('both/'), [`both/${name}`, `both/${name}.json`])
    t.same(JSON.parse((await object(`both/${name}.json`)).toString()), entry!.record, 'the record in the bucket is the sidecar')
    t.ok((await object(`both/${name}`)).equals(readFileSync(entry!.path)), 'the object is the file')
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `both/${name}` }))
    t.same([head.ContentLength, head.Metadata?.sha256], [entry!.record!.fileBytes, entry!.record!.sha256], 'size and sha256 in its metadata')

    const list = async (...flags: string[]) => JSON.parse((await etcdgw(['backup', 'list', '-w', 'json', ...flags])).stdout) as unknown
    t.match(await list('--dir', dir, ...s3.flags, '--s3-prefix', 'both'), [{ name, where: 'both', verified: true, revision: entry!.record!.revision, paths: [entry!.path, `s3://backups/both/${name}`] }])
    t.match(await list(...s3.flags, '--s3-prefix', 'both/'), [{ name, where: 's3', verified: true }])
    t.match(await list('--dir', dir), [{ name, where: 'dir', verified: true }])
    const table = await etcdgw(['backup', 'list', '--dir', dir, ...s3.flags, '--s3-prefix', 'both'])
    t.match(table.stdout, new RegExp(`\\| ${name} \\|.*\\| +yes \\| +both \\|`))
    const none = await etcdgw(['backup', 'list'])
    t.same([none.code, none.stderr], [1, 'Error: give --dir, --s3-bucket or both\n'])
  })

  t.test('the latest backup in the bucket restored into the embedded store and into a new etcd member answers as etcd did', async (t) => {
    const restored = join(tmp, 'restored')
    const r = await etcdgw(['backup', 'restore', 'latest', ...s3.flags, '--s3-prefix', 'both', '--data-dir', restored])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /^restored snapshot-\d{8}-\d{6}\.db into /)
    t.notOk(readdirSync(tmpdir()).some((f) => f.startsWith(`etcdgw-backup-staging-`) && f.includes(`-${process.pid}-`)), 'the download removed')
    const gw = await startGateway({ teardown: t, flags: ['--data-dir', restored] })
    await sameHistory(t, etcd.url, gw.url, 'etcd → bucket → etcdgw')

    // a member of a new cluster: etcdgw prints etcdctl's command, etcdctl restores, etcd serves it
    const [clientPort, peerPort] = await Promise.all([freePort(), freePort()])
    const peer = `http://127.0.0.1:${peerPort}`
    const dataDir = join(tmp, 'm1.etcd')
    const fetched = join(tmp, 'fetched')
    const printed = await etcdgw(['backup', 'restore', 'latest', '--dir', fetched, ...s3.flags, '--s3-prefix', 'both', '--data-dir', dataDir, '--name', 'm1', '--initial-cluster', `m1=${peer}`, '--initial-advertise-peer-urls', peer])
    t.equal(printed.code, 0, printed.stderr)
    t.match(listBackups(fetched), [{ record: { source: etcd.url } }], 'downloaded into --dir, verified')
    const commands = printed.stdout.split('\n').filter((l) => l.startsWith('ETCDCTL_API=3 etcdctl '))
    t.equal(commands.length, 1, printed.stdout)
    const ran = await etcdctl(commands[0]!.replace('ETCDCTL_API=3 etcdctl ', '').split(' '))
    t.equal(ran.code, 0, ran.stderr)
    const member = await launch({
      what: 'etcd-restored',
      command: ETCD_BIN,
      portCount: 2,
      ports: [clientPort, peerPort],
      args: ([client]) => ['--name', 'm1', '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `m1=${peer}`, '--heartbeat-interval', '10', '--election-timeout', '100'],
      ready: async (url) => (await send(url, '/health', '', { method: 'GET', timeoutMs: 2_000 })).body.includes('"health":"true"'),
      teardown: t,
    })
    await sameHistory(t, etcd.url, member.url, 'etcd → bucket → etcdctl snapshot restore → etcd')

    const onlyInBucket = await etcdgw(['backup', 'restore', 'latest', ...s3.flags, '--s3-prefix', 'both', '--data-dir', join(tmp, 'x'), '--name', 'm1', '--initial-cluster', `m1=${peer}`, '--initial-advertise-peer-urls', peer])
    t.match([onlyInBucket.code, onlyInBucket.stderr], [1, /is only in s3:\/\/backups\/both\/: give --dir to download it into, for etcdctl/])
  })

  t.test('retention in the bucket: the same policies, only verified backups, never the newest', async (t) => {
    const s = store('retention/')
    const stray = 'retention/snapshot-20250101-000000.db'
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: stray, Body: 'not verified' }))
    const { svc, lines } = service({ s3: s, retention: { keep: 2 } })
    for (let i = 0; i < 4; i++) t.ok((await svc.backup()).ok)
    t.same(lines.map((l) => l.fields.deleted), [[], [], ['snapshot-20260101-000100.db'], ['snapshot-20260101-000200.db']])
    t.same(await keys('retention/'), [stray, ...['000300', '000400'].flatMap((n) => [`retention/snapshot-20260101-${n}.db`, `retention/snapshot-20260101-${n}.db.json`])])
    t.match(await s.list(), [{ name: 'snapshot-20250101-000000.db', record: undefined }, { name: 'snapshot-20260101-000300.db', record: {} }, { name: 'snapshot-20260101-000400.db', record: {} }])
    const metrics = await svc.metrics.registry.metrics()
    t.match(metrics, /^etcdgw_backup_kept\{destination="s3:\/\/backups\/retention\/"\} 2$/m)
    t.match(metrics, /^etcdgw_backup_destination_failures_total\{destination="s3:\/\/backups\/retention\/"\} 0$/m)

    // a backup that fails at its source deletes nothing, however strict the policy
    const cut: SnapshotSource = {
      description: 'a stream cut short',
      attempts: 1,
      snapshot: async function* () {
        yield* []
        throw new Error('stream cut')
      },
      close: async () => undefined,
    }
    const failing = service({ source: cut, s3: s, retention: { keep: 1 }, now: minutes(Date.UTC(2026, 5, 1)) })
    t.match(await failing.svc.backup(), { ok: false, reason: 'source', destinations: [] })
    t.equal((await keys('retention/')).length, 5, 'nothing deleted while failing')
  })

  t.test('the S3 server down: the directory goes on, the failure is counted, nothing is deleted in the bucket; back up, it catches up', async (t) => {
    const dir = join(tmp, 'down')
    const bucket = store('down/')
    const { svc, lines } = service({ dir, s3: bucket, retention: { keep: 1 } })
    t.ok((await svc.backup()).ok)
    await s3.kill('SIGKILL')
    const outcome = await svc.backup()
    t.match(outcome, {
      ok: true,
      destinations: [
        { destination: dir, ok: true, deleted: ['snapshot-20260101-000100.db'] },
        { destination: 's3://backups/down/', ok: false, error: { message: /^backup: keeping it in s3:\/\/backups\/down\/: .*ECONNREFUSED/ } },
      ],
    })
    t.match(lines[1], { level: 'error', msg: 'backup verified, but a destination failed (nothing deleted there)', fields: { result: 'partial', destinations: [{ result: 'ok' }, { result: 'failed' }] } })
    let metrics = await svc.metrics.registry.metrics()
    t.match(metrics, /^etcdgw_backup_last_attempt_success 0$/m)
    t.match(metrics, /^etcdgw_backup_failures_total\{reason="destination"\} 1$/m)
    t.match(metrics, /^etcdgw_backup_destination_failures_total\{destination="s3:\/\/backups\/down\/"\} 1$/m)
    t.match(metrics, new RegExp(`^etcdgw_backup_destination_failures_total\\{destination="${dir}"\\} 0$`, 'm'))
    t.match(metrics, /^etcdgw_backup_destination_last_success_timestamp_seconds\{destination="s3:\/\/backups\/down\/"\} 1767225660$/m, 'the bucket\'s last success is the first backup')
    t.match(metrics, new RegExp(`^etcdgw_backup_destination_last_success_timestamp_seconds\\{destination="${dir}"\\} 1767225720$`, 'm'))

    await s3.restart()
    t.same(await keys('down/'), ['down/snapshot-20260101-000100.db', 'down/snapshot-20260101-000100.db.json'], 'the bucket lost nothing while down')
    const third = await svc.backup()
    t.match(third, { ok: true, destinations: [{ ok: true }, { ok: true, deleted: ['snapshot-20260101-000100.db'] }] })
    t.same(await keys('down/'), ['down/snapshot-20260101-000300.db', 'down/snapshot-20260101-000300.db.json'])
    t.match(await svc.metrics.registry.metrics(), /^etcdgw_backup_last_attempt_success 1$/m)

    // a daemon started again reads its last success and what each destination keeps
    const restarted = service({ dir, s3: bucket })
    await restarted.svc.observe()
    const seen = await restarted.svc.metrics.registry.metrics()
    t.match(seen, /^etcdgw_backup_last_success_timestamp_seconds 1767225780$/m)
    t.match(seen, /^etcdgw_backup_kept\{destination="s3:\/\/backups\/down\/"\} 1$/m)
    t.match(seen, /^etcdgw_backup_destination_last_success_timestamp_seconds\{destination="s3:\/\/backups\/down\/"\} 1767225780$/m)
  })

  t.test('credentials refused or no such bucket: reported, the directory still gets its backup', async (t) => {
    for (const [what, flags, env, error] of [
      ['an unknown access key', ['--s3-prefix', 'denied'], { AWS_ACCESS_KEY_ID: 'nobody' }, /HTTP 403 Forbidden/],
      ['no such bucket', ['--s3-prefix', 'denied', '--s3-bucket', 'no-such-bucket'], {}, /HTTP 404 NoSuchBucket: The specified bucket does not exist/],
    ] as const) {
      const dir = join(tmp, `denied-${what.replaceAll(' ', '-')}`)
      const r = await etcdgw(['backup', 'now', '--endpoints', etcd.url, '--dir', dir, ...s3.flags, ...flags], env)
      t.equal(r.code, 1, what)
      t.match(r.stdout, `kept in ${dir}\n`, what)
      t.match(r.stderr, /^Error: backup: keeping it in s3:\/\/[\w-]+\/denied\/: /, what)
      t.match(r.stderr, error, what)
      t.match(listBackups(dir), [{ record: { source: etcd.url } }], `${what}: the directory's backup verified`)
    }
    t.same(await keys('denied/'), [], 'nothing in the bucket')
    const kms = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...s3.flags, '--s3-sse-kms-key-id', 'key'])
    t.same([kms.code, kms.stderr], [1, 'Error: --s3-sse-kms-key-id needs --s3-sse aws:kms\n'])
  })

  t.test('a store whose certificate is checked with --s3-ca-file; without it, refused', async (t) => {
    const secure = await startS3Server({ teardown: t, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca } })
    t.match(secure.url, /^https:/)
    const ok = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...secure.flags])
    t.equal(ok.code, 0, ok.stderr)
    const untrusted = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...secure.flags.slice(0, -2)])
    t.equal(untrusted.code, 1)
    t.match(untrusted.stderr, /^Error: backup: keeping it in s3:\/\/backups\/: .*(self-signed certificate|unable to verify)/)
    const badCa = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...secure.flags.slice(0, -1), join(tmp, 'none.crt')])
    t.same([badCa.code, badCa.stderr], [1, `Error: --s3-ca-file ${join(tmp, 'none.crt')}: ENOENT\n`])
  })

  t.test('a directory that cannot be written keeps nothing from the bucket', { skip: cannotMount() }, async (t) => {
    const dir = smallDisk(t, 16)
    t.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0)
    const { svc, lines } = service({ dir, s3: store('rodir/') })
    const outcome = await svc.backup()
    t.match(outcome, { ok: true, destinations: [{ destination: dir, ok: false, error: { message: /EROFS/ } }, { destination: 's3://backups/rodir/', ok: true }] })
    t.same(await keys('rodir/'), ['rodir/snapshot-20260101-000100.db', 'rodir/snapshot-20260101-000100.db.json'])
    t.match(lines, [{ level: 'error', fields: { result: 'partial' } }])
    t.match(await svc.metrics.registry.metrics(), new RegExp(`^etcdgw_backup_destination_failures_total\\{destination="${dir}"\\} 1$`, 'm'))
    t.notOk(readdirSync(tmpdir()).some((f) => f.startsWith(`etcdgw-backup-staging-${process.pid}-`)), 'the staging directory removed')
  })

  t.test('a snapshot larger than a part goes up in parts; verify reads it back; damage in the bucket is caught', async (t) => {
    // 12 MB of values: three 5 MiB parts
    for (let i = 0; i < 12; i++) {
      const res = await post(etcd.url, '/v3/kv/put', JSON.stringify({ key: Buffer.from(`big/${i}`).toString('base64'), value: Buffer.alloc(1_000_000, i).toString('base64') }))
      t.equal(res.status, 200)
    }
    const r = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...s3.flags, '--s3-prefix', 'big', '--s3-part-size', '5MiB'])
    t.equal(r.code, 0, r.stderr)
    const name = /^(snapshot-\d{8}-\d{6}\.db): /m.exec(r.stdout)![1]!
    // the snapshots before were smaller than a part: these are the only parts so far
    const uploadId = /Stored part 1 of (\w+)/.exec(s3.log().join('\n'))![1]!
    t.ok(s3.log().some((l) => l.includes(`Stored part 3 of ${uploadId}`)), 'three parts')
    t.ok(s3.log().some((l) => l.includes(`Stored object "big/${name}"`)), 'completed')
    const verified = await etcdgw(['backup', 'verify', 'latest', ...s3.flags, '--s3-prefix', 'big'])
    t.equal(verified.code, 0, verified.stderr)
    t.match(verified.stdout, `${name}: verified in s3://backups/big/: revision `)

    const bytes = await object(`big/${name}`)
    t.ok(bytes.length > 2 * MIN_PART_SIZE, `${bytes.length} bytes`)
    bytes[bytes.length >> 1]! ^= 0xff
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `big/${name}`, Body: bytes }))
    const damaged = await etcdgw(['backup', 'verify', name, ...s3.flags, '--s3-prefix', 'big'])
    t.equal(damaged.code, 1)
    t.match(damaged.stderr, /^Error: snapshot: .*sha256 mismatch: the snapshot is damaged or incomplete\n$/)
    const tooSmall = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...s3.flags, '--s3-part-size', '1MiB'])
    t.match([tooSmall.code, tooSmall.stderr], [1, /--s3-part-size: a size of 5MiB or more/])
  })

  t.test('kill -9 mid-upload: no object in the bucket, and the next backup succeeds', async (t) => {
    // 8 MB more: six parts, all still to go when the upload has begun
    for (let i = 12; i < 20; i++) {
      const res = await post(etcd.url, '/v3/kv/put', JSON.stringify({ key: Buffer.from(`big/${i}`).toString('base64'), value: Buffer.alloc(1_000_000, i).toString('base64') }))
      t.equal(res.status, 200)
    }
    // a temp dir of this case's own: a backup run by another test file at the same time would clear the
    // killed writer's staging directory from the shared one (its writer is gone)
    const env = { TMPDIR: mkdtempSync(join(tmp, 'tmp-')) }
    const staged = () => readdirSync(env.TMPDIR).some((f) => f.startsWith(`etcdgw-backup-staging-${child.pid}-`))
    // the writer reaches the store through a relay that lets 1 MiB of its requests through: the multipart
    // upload begins, and stops in its first part, where the writer is killed
    const gate = await startByteGate(t, s3.url, 'toServer', 1 << 20)
    const gated = s3.flags.map((f) => (f === s3.url ? gate.url : f))
    const args = [MAIN_JS, 'backup', 'now', '--endpoints', etcd.url, ...gated, '--s3-prefix', 'killed', '--s3-part-size', '5MiB']
    const from = s3.log().length
    const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, ...env } })
    guardChild(child)
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
    await s3.logged(/\?uploads= 200 /, from)
    child.kill('SIGKILL')
    t.equal(await exited, 'SIGKILL')
    t.same(await keys('killed/'), [], 'no object')
    const listed = await etcdgw(['backup', 'list', '-w', 'json', ...s3.flags, '--s3-prefix', 'killed'], env)
    t.equal(listed.stdout, '[]\n')
    t.ok(staged(), 'the killed writer\'s staging directory is left')
    const next = await etcdgw(['backup', 'now', '--endpoints', etcd.url, ...s3.flags, '--s3-prefix', 'killed', '--s3-part-size', '5MiB'], env)
    t.equal(next.code, 0, next.stderr)
    t.match(JSON.parse((await etcdgw(['backup', 'list', '-w', 'json', ...s3.flags, '--s3-prefix', 'killed'])).stdout), [{ where: 's3', verified: true }])
    t.equal((await keys('killed/')).length, 2)
    t.notOk(staged(), 'and removed by the next')
  })

  t.test('backup run: /metrics on an https URL with --cert-file and --key-file, per destination', async (t) => {
    const port = await freePort()
    const dir = join(tmp, 'run')
    const run = spawn(
      process.execPath,
      [MAIN_JS, 'backup', 'run', '--endpoints', etcd.url, '--schedule', '* * * * * *', '--dir', dir, ...s3.flags, '--s3-prefix', 'run', '--keep', '1', '--listen-metrics-urls', `https://127.0.0.1:${port}`, '--cert-file', pki.server.cert, '--key-file', pki.server.key],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    guardChild(run)
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)))
    t.teardown(() => run.kill('SIGKILL'))
    const lines = createInterface({ input: run.stdout! })[Symbol.asyncIterator]()
    const next = async () => JSON.parse((await lines.next()).value as string) as Record<string, unknown>
    let line = await next()
    while (line.msg !== 'backups scheduled') line = await next()
    t.match(line, { metrics: [`https://127.0.0.1:${port}/metrics`], dir, s3: 's3://backups/run/' })
    while (!String(line.msg).startsWith('backup ')) line = await next()
    t.equal(line.msg, 'backup verified', JSON.stringify(line))
    t.match(line, { result: 'ok', destinations: [{ destination: dir, result: 'ok' }, { destination: 's3://backups/run/', result: 'ok' }] })
    const metrics = await nodeGet(`https://127.0.0.1:${port}/metrics`, { ca: pki.ca })
    t.equal(metrics.status, 200)
    t.match(metrics.body, /^etcdgw_backup_last_attempt_success 1$/m)
    t.match(metrics.body, /^etcdgw_backup_kept\{destination="s3:\/\/backups\/run\/"\} 1$/m)
    t.match(metrics.body, /^etcdgw_backup_destination_last_success_timestamp_seconds\{destination="s3:\/\/backups\/run\/"\} [\d.]+$/m)
    await t.rejects(post(`http://127.0.0.1:${port}`, '/metrics', ''), 'no plain http on it')
    run.kill('SIGTERM')
    t.equal(await exited, 0)
    const noCert = await etcdgw(['backup', 'run', '--endpoints', etcd.url, '--schedule', '@every 1h', '--dir', dir, '--listen-metrics-urls', `https://127.0.0.1:${port}`])
    t.same([noCert.code, noCert.stderr], [1, 'Error: an https --listen-metrics-urls needs --cert-file and --key-file\n'])
  })
})
