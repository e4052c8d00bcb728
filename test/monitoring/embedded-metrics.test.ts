/**
 * What the embedded store's etcd families say, checked against what happened: writes as proposals, the
 * fsync and commit histograms counting the commits that made them durable, keys and revisions, defragment,
 * /health checks, and the gRPC counters by method and code over POST and WebSocket alike; then, on a
 * fresh store, compaction, watchers, puts, hash, snapshots and the auth revision.
 */
import t from 'tap'
import { OUR_TARGETS } from '../helpers/servers.js'
import { b64, openWs, post } from '../helpers/stream-clients.js'
import { type Family, scrape } from '../helpers/exposition.js'

/** A sample's value (a histogram's count); `absent` stands in for a labelled counter not counted yet. */
const value = (f: Map<string, Family>, name: string, labels: Record<string, string> = {}, absent?: number) => {
  const s = f.get(name)?.samples.find((x) => (x.name === name || x.name === name + '_count') && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  if (s) return s.value
  if (absent === undefined) throw new Error(`no sample of ${name} ${JSON.stringify(labels)}`)
  return absent
}
const grpc = (method: string, code?: string) => ({ grpc_method: method, ...(code ? { grpc_code: code } : {}) })

t.test('the embedded store reports what it did', async (t) => {
  const ours = await OUR_TARGETS[0][1](t)
  const before = await scrape(ours.url)
  t.equal(value(before, 'etcd_server_has_leader'), 1, 'its own leader')
  t.equal(value(before, 'etcd_server_leader_changes_seen_total'), 1, 'since it opened')

  for (const k of ['a', 'b', 'c']) await post(ours.url, '/v3/kv/put', JSON.stringify({ key: b64(`m/${k}`), value: b64('v') }))
  await post(ours.url, '/v3/kv/deleterange', JSON.stringify({ key: b64('m/c') }))
  await post(ours.url, '/v3/kv/put', JSON.stringify({ key: '', value: b64('v') }))
  const ws = await openWs(ours.url, '/v3/kv/range')
  ws.send(JSON.stringify({ key: b64('m/a') }))
  await ws.waitFor(1)
  ws.close()
  await post(ours.url, '/v3/lease/grant', JSON.stringify({ TTL: 100, ID: 7 }))
  const keepalive = await openWs(ours.url, '/v3/lease/keepalive')
  keepalive.send(JSON.stringify({ ID: 7 }))
  await keepalive.waitFor(1)
  keepalive.close()
  await post(ours.url, '/v3/lease/revoke', JSON.stringify({ ID: 7 }))
  await post(ours.url, '/v3/maintenance/defragment', '{}')
  await fetch(ours.url + '/health')
  const after = await scrape(ours.url)

  const grew = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels, 0)
  t.equal(grew('etcd_server_proposals_applied_total'), 6, 'four writes, a grant and a revoke applied')
  t.equal(value(after, 'etcd_server_proposals_committed_total'), value(after, 'etcd_server_proposals_applied_total'))
  t.equal(value(after, 'etcd_server_proposals_pending'), 0, 'none pending')
  t.equal(grew('etcd_server_proposals_failed_total'), 0, 'none failed')
  t.equal(grew('etcd_disk_wal_fsync_duration_seconds'), 6, "each request's log record is flushed and timed")
  const commits = grew('etcd_disk_backend_commit_duration_seconds')
  t.ok(commits >= 1 && commits <= 6, `lmdb takes the logged batches, one or more a commit (${commits} commits timed)`)
  t.equal(value(after, 'etcd_debugging_mvcc_keys_total'), 2, 'two keys live')
  t.equal(value(after, 'etcd_debugging_mvcc_current_revision'), 5)
  t.equal(grew('etcd_debugging_lease_granted_total'), 1, 'one lease granted')
  const bucket = (le: string) => after.get('etcd_debugging_lease_ttl_total')!.samples.find((x) => x.labels.le === le)!.value
  t.equal(bucket('128') - bucket('64'), 1, 'for 100 s')
  t.equal(grew('etcd_debugging_lease_renewed_total'), 1, 'renewed once')
  t.equal(grew('etcd_debugging_lease_revoked_total'), 1, 'revoked')
  t.equal(grew('etcd_debugging_server_lease_expired_total'), 0, 'none expired')
  t.equal(grew('etcd_disk_backend_defrag_duration_seconds'), 1, 'one defragment')
  t.equal(value(after, 'etcd_disk_defrag_inflight'), 0)
  t.equal(grew('etcd_server_health_success'), 1, 'one /health check')

  t.equal(grew('grpc_server_started_total', grpc('Put')), 4, 'four puts started (the bad one too: it decoded)')
  t.equal(grew('grpc_server_handled_total', grpc('Put', 'OK')), 3)
  t.equal(grew('grpc_server_handled_total', grpc('Put', 'InvalidArgument')), 1, 'the put without a key')
  t.equal(grew('grpc_server_handled_total', grpc('Range', 'OK')), 1, 'the range over WebSocket')
  t.equal(grew('grpc_server_handled_total', grpc('DeleteRange', 'OK')), 1)
  t.equal(grew('etcd_mvcc_put_total'), 3)
  t.equal(grew('etcd_mvcc_range_total'), 1)
  t.equal(grew('etcd_server_client_requests_total', { type: 'unary' }), 9, 'four puts, a delete, a range, a grant, a revoke, a defragment')
  t.equal(grew('etcd_server_client_requests_total', { type: 'stream' }), 1, 'the keepalive stream')
})

t.test('the embedded store reports its store, watchers and maintenance, family by family', async (t) => {
  const ours = await OUR_TARGETS[0][1](t)
  const kv = (path: string, body: object) => post(ours.url, path, JSON.stringify(body))
  let before = await scrape(ours.url)
  /** How much a sample moved since the last call (its first call: since the server started). */
  const moved = async () => {
    const after = await scrape(ours.url)
    const last = before
    before = after
    return (name: string) => value(after, name) - value(last, name)
  }

  t.test('compaction', async (t) => {
    // revisions 2, 3 and 4 of one key: compacting at 4 leaves 4 alone, so rows 2 and 3 go
    for (const v of ['1', '2', '3']) await kv('/v3/kv/put', { key: b64('c/k'), value: b64(v) })
    await kv('/v3/kv/compaction', { revision: 4, physical: true })
    const grew = await moved()
    t.equal(grew('etcd_debugging_mvcc_db_compaction_keys_total'), 2, 'two superseded rows removed')
    t.equal(grew('etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds'), 1, 'the index compacted once')
    t.equal(grew('etcd_debugging_mvcc_db_compaction_total_duration_milliseconds'), 1, 'one removal, timed')
    t.equal(grew('etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds'), 0, 'in one chunk: no pause between chunks, as etcd')
  })

  t.test('watchers', async (t) => {
    const watch = await openWs(ours.url, '/v3/watch')
    t.teardown(() => watch.close())
    watch.send(JSON.stringify({ create_request: { key: b64('w/k') } }))
    watch.send(JSON.stringify({ create_request: { key: b64('w/k'), filters: ['NOPUT'] } }))
    await watch.waitFor(2)
    for (const v of ['1', '2']) await kv('/v3/kv/put', { key: b64('w/k'), value: b64(v) })
    await watch.waitFor(4)
    watch.send(JSON.stringify({ cancel_request: { watch_id: 1 } }))
    await watch.waitFor(5)
    const grew = await moved()
    t.equal(value(before, 'etcd_debugging_mvcc_watch_stream_total'), 1, 'one stream open')
    t.equal(value(before, 'etcd_debugging_mvcc_watcher_total'), 1, 'two watchers started, one canceled')
    t.equal(value(before, 'etcd_debugging_mvcc_slow_watcher_total'), 0, 'none catching up')
    t.equal(value(before, 'etcd_debugging_mvcc_pending_events_total'), 0)
    t.equal(grew('etcd_debugging_mvcc_events_total'), 2, "two puts sent to one watcher (the other's filter took them)")
  })

  t.test('puts, hash, snapshot and the auth store', async (t) => {
    await kv('/v3/kv/put', { key: b64('p/k'), value: b64('12345') })
    await kv('/v3/kv/txn', { success: [{ request_put: { key: b64('p/t'), value: b64('x') } }, { request_delete_range: { key: b64('p/k') } }] })
    await kv('/v3/kv/put', { key: b64('p/t'), ignore_value: true })
    await kv('/v3/maintenance/hash', {})
    const snapshot = await fetch(ours.url + '/v3/maintenance/snapshot', { method: 'POST', body: '{}' })
    t.ok((await snapshot.text()).length > 0, 'a snapshot read to its end')
    await kv('/v3/auth/user/add', { name: 'u1', password: 'pw' })
    const grew = await moved()
    t.equal(grew('etcd_debugging_mvcc_total_put_size_in_bytes'), 3 + 5 + (3 + 1) + (3 + 1), "keys and values put, the value an ignore_value put keeps included, as etcd")
    t.equal(grew('etcd_mvcc_hash_duration_seconds'), 1, 'one hash timed')
    t.equal(grew('etcd_disk_backend_snapshot_duration_seconds'), 1, 'one snapshot timed')
    t.equal(value(before, 'etcd_mvcc_db_open_read_transactions'), 0, 'its read transaction closed with it')
    t.equal(grew('etcd_debugging_auth_revision'), 1, 'a user added: the next auth revision')
  })
})
