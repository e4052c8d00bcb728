/**
 * Hostile and careless clients, etcd beside etcdgw: what one bad stream client makes the server hold,
 * and what another client's puts cost meanwhile.
 *
 * - progress flood: 5 WebSockets on /v3/watch that never read, each sending a 2 MB frame of
 *   `{"progress_request":{}}` every 200 ms;
 * - keepalive flood: the same on /v3/lease/keepalive with renewals of one lease;
 * - slow message: one WebSocket sends a watch create in 1,000 frames of 1,000 bytes (then its end);
 * - replay: on a store of 50,000 revisions, 1 and then 20 WebSocket watches on every key from revision 1, each
 *   read to the end of the history; then 200 watches from revision 1 on a key with no history, created at
 *   once, and 200 on a prefix with no history;
 * - paused watchers: 2,000 WebSockets, each with a watch on one key, stop reading while 169 puts of 16 KB
 *   go to that key;
 * - unread snapshots: on a store of ~60 MB, 20 snapshot requests whose responses are never read, held 10 s.
 *
 * Another client, in a process of its own, puts one key every 20 ms while a load runs. A load that is over
 * before that client has made MIN_PUTS puts runs again, back to back, until it has: the p50 rests on enough
 * puts, all of them made while the load was running.
 *
 * The flooding clients run in this process; a client whose socket stops taking bytes is not sent more
 * than 64 MB ahead (the bench's own memory), which is still far past any server limit.
 */
import { request } from 'node:http'
import { WebSocket } from 'ws'
import { post } from './http-post.js'
import { startPutProbe } from './put-probe.js'
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { median } from './stats.js'
import { startTarget, type Target, type TargetName } from './targets.js'

export interface HostileOptions {
  targets: TargetName[]
  /** Seconds each flood lasts. */
  seconds: number
  /** Only the loads whose name contains one of these (all when absent). */
  loads?: string[]
  /** Extra flags for etcdgw's node (--cpu-prof). */
  etcdgwNodeArgs?: string[]
}

interface Row {
  target: TargetName
  load: string
  /** How many times the load ran, back to back, for the other client's puts to reach MIN_PUTS. */
  rounds: number
  /** How long one round of the load's own work took (the flood's length, the replays until read, ...): the median. */
  roundSeconds: number
  /** The most disk the server's directory took during the load, above what it took before. */
  diskGrowthBytes: number
  peakRssBytes: number
  endRssBytes: number
  /** Puts the other client made while the load ran, over all its rounds. */
  puts: number
  putP50Ms: number
  putMaxMs: number
  /** The server's CPU over all rounds, divided by the rounds. */
  serverCpuSecondsPerRound: number
}

const FLOODERS = 5
const FRAME_EVERY_MS = 200
const CLIENT_BACKLOG_CAP = 64 * 1024 * 1024
/** The fewest puts the other client makes during a load: a shorter load is repeated until it has made these. */
const MIN_PUTS = 50
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const base64 = (s: string) => Buffer.from(s).toString('base64')

async function openWs(url: string, path: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + path, { perMessageDeflate: false })
  socket.on('error', () => {})
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** Sends `frame` on every socket every 200 ms for `seconds`, the sockets never reading. */
async function flood(url: string, path: string, frame: string, seconds: number): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: FLOODERS }, () => openWs(url, path)))
  for (const s of sockets) s.pause()
  const end = Date.now() + seconds * 1000
  while (Date.now() < end) {
    for (const s of sockets) if (s.readyState === WebSocket.OPEN && s.bufferedAmount < CLIENT_BACKLOG_CAP) s.send(frame)
    await sleep(FRAME_EVERY_MS)
  }
  for (const s of sockets) s.terminate()
}

async function slowMessage(url: string): Promise<void> {
  const socket = await openWs(url, '/v3/watch')
  socket.send('{"create_request":{"key":"eA==","filters":[')
  const piece = '0,'.repeat(500)
  for (let i = 0; i < 1000; i++) socket.send(piece)
  socket.send('0]}}')
  // the create's answer (or an error) says the server has read it all
  await new Promise((resolve) => {
    socket.once('message', resolve)
    socket.once('close', resolve)
    setTimeout(resolve, 120_000)
  })
  socket.terminate()
}

/** Writes `count` revisions (one put each, 32 in flight) of `valueBytes`-byte values over 100 keys. */
async function writeRevisions(url: string, count: number, valueBytes: number): Promise<void> {
  const value = Buffer.alloc(valueBytes, 'h').toString('base64')
  let next = 0
  const writer = async () => {
    while (next < count) {
      const i = next++
      await post(url, '/v3/kv/put', `{"key":"${base64(`history/${i % 100}`)}","value":"${value}"}`)
    }
  }
  await Promise.all(Array.from({ length: 32 }, writer))
}

/** Resolves once the socket has received `events` watch events in all (or closed). */
function eventsReceived(socket: WebSocket, events: number): Promise<void> {
  let seen = 0
  return new Promise((resolve) => {
    socket.on('message', (data: Buffer) => {
      const result = (JSON.parse(data.toString()) as { result?: { events?: unknown[] } }).result
      seen += result?.events?.length ?? 0
      if (seen >= events) resolve()
    })
    socket.once('close', () => resolve())
  })
}

const REPLAY_REVISIONS = 50_000
const fillHistory = (url: string) => writeRevisions(url, REPLAY_REVISIONS, 16)

/** `watches` watches on every key from revision 1, each read until it has the whole history. */
async function replayAll(url: string, watches: number): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: watches }, () => openWs(url, '/v3/watch')))
  await Promise.all(
    sockets.map((socket) => {
      const done = eventsReceived(socket, REPLAY_REVISIONS)
      socket.send(JSON.stringify({ create_request: { key: 'AA==', range_end: 'AA==', start_revision: 1 } }))
      return done
    }),
  )
  for (const socket of sockets) socket.terminate()
}

/** 200 watches from revision 1 on a key (or range) no revision touched, sent at once; done when all are created. */
async function replayNothing(url: string, range: { key: string; range_end?: string }): Promise<void> {
  const sockets = await Promise.all(Array.from({ length: 200 }, () => openWs(url, '/v3/watch')))
  await Promise.all(
    sockets.map((socket) => {
      const created = new Promise((resolve) => {
        socket.once('message', resolve)
        socket.once('close', resolve)
      })
      socket.send(JSON.stringify({ create_request: { ...range, start_revision: 1 } }))
      return created
    }),
  )
  for (const socket of sockets) socket.terminate()
}

/** 2,000 watchers of one key stop reading while 169 puts of 16 KB are made to it. */
async function pausedWatchers(url: string): Promise<void> {
  const sockets: WebSocket[] = []
  for (let i = 0; i < 2000; i += 100) {
    sockets.push(...(await Promise.all(Array.from({ length: 100 }, () => openWs(url, '/v3/watch')))))
  }
  await Promise.all(
    sockets.map((socket, i) => {
      const created = new Promise((resolve) => socket.once('message', resolve))
      socket.send(JSON.stringify({ create_request: { key: 'cGF1c2Vk', watch_id: i + 1 } }))
      return created
    }),
  )
  for (const socket of sockets) socket.pause()
  const value = Buffer.alloc(16 * 1024, 'p').toString('base64')
  for (let i = 0; i < 169; i++) await post(url, '/v3/kv/put', `{"key":"cGF1c2Vk","value":"${value}"}`)
  for (const socket of sockets) socket.terminate()
}

/** 20 snapshot requests whose answers are not read for 10 s. */
async function unreadSnapshots(url: string): Promise<void> {
  const requests = Array.from({ length: 20 }, () => {
    const req = request(url + '/v3/maintenance/snapshot', { method: 'POST' }, (res) => res.pause())
    req.on('error', () => {})
    req.end('{}')
    return req
  })
  await sleep(10_000)
  for (const req of requests) req.destroy()
}

async function measure(target: Target, load: string, run: () => Promise<void>): Promise<Row> {
  const cpuBefore = target.cpuSeconds()
  const diskBefore = target.diskBytes()
  let peak = target.rssBytes()
  let peakDisk = diskBefore
  const sampler = setInterval(() => {
    peak = Math.max(peak, target.rssBytes())
    peakDisk = Math.max(peakDisk, target.diskBytes())
  }, 100)
  const probe = await startPutProbe(target.url)
  const roundSeconds: number[] = []
  do {
    const started = performance.now()
    await run()
    roundSeconds.push((performance.now() - started) / 1000)
  } while (probe.latencies.length < MIN_PUTS)
  await probe.stop()
  const latencies = probe.latencies
  // what it still holds once the clients are gone
  await sleep(2000)
  clearInterval(sampler)
  const endRss = target.rssBytes()
  return {
    target: target.name,
    load,
    rounds: roundSeconds.length,
    roundSeconds: median(roundSeconds),
    diskGrowthBytes: peakDisk - diskBefore,
    peakRssBytes: Math.max(peak, endRss),
    endRssBytes: endRss,
    puts: latencies.length,
    putP50Ms: median(latencies),
    putMaxMs: Math.max(...latencies),
    serverCpuSecondsPerRound: (target.cpuSeconds() - cpuBefore) / roundSeconds.length,
  }
}

export async function runHostileBench(opts: HostileOptions): Promise<{ text: string; markdown: string }> {
  const facts = machineFacts()
  const rows: Row[] = []
  const progressFrame = '{"progress_request":{}}'.repeat(Math.floor((2 * 1024 * 1024) / 23))
  const keepaliveFrame = '{"ID":"4242"}'.repeat(Math.floor((2 * 1024 * 1024) / 13))
  for (const name of opts.targets) {
    const loads: [string, (url: string) => Promise<void>, ((url: string) => Promise<void>)?][] = [
      ['progress flood', (url) => flood(url, '/v3/watch', progressFrame, opts.seconds)],
      ['keepalive flood', (url) => flood(url, '/v3/lease/keepalive', keepaliveFrame, opts.seconds)],
      ['slow message', (url) => slowMessage(url)],
      ['replay: 1 watch of 50,000 revisions', (url) => replayAll(url, 1), fillHistory],
      ['replay: 20 watches of 50,000 revisions', (url) => replayAll(url, 20), fillHistory],
      ['replay: 200 watches, key without history', (url) => replayNothing(url, { key: base64('no-history') }), fillHistory],
      ['replay: 200 watches, prefix without history', (url) => replayNothing(url, { key: base64('none/'), range_end: base64('none0') }), fillHistory],
      ['2,000 paused watchers, 16 KB puts', pausedWatchers],
      ['20 unread snapshots of ~60 MB', unreadSnapshots, (url) => writeRevisions(url, 60_000, 1024)],
    ]
    const chosen = loads.filter(([load]) => !opts.loads || opts.loads.some((part) => load.includes(part)))
    for (const [load, run, prepare] of chosen) {
      // a fresh server per load: what one load left behind does not count against the next
      const target = await startTarget(name, { nodeArgs: opts.etcdgwNodeArgs })
      try {
        await post(target.url, '/v3/lease/grant', '{"TTL":3600,"ID":4242}')
        await prepare?.(target.url)
        // warm: a cold server's first puts would count as the load's
        for (let i = 0; i < 200; i++) await post(target.url, '/v3/kv/put', '{"key":"d2FybQ==","value":"d2FybQ=="}')
        rows.push(await measure(target, load, () => run(target.url)))
      } finally {
        await target.stop()
      }
    }
  }
  const mbOf = (b: number) => (b / 2 ** 20).toFixed(0)
  const table: Table = {
    header: ['load', 'server', 'rounds', 'load s', 'peak RSS MB', 'RSS after MB', 'disk growth MB', 'other puts', 'other put p50 ms', 'other put max ms', 'server CPU s'],
    rows: rows.map((r) => [
      r.load,
      r.target,
      String(r.rounds),
      r.roundSeconds.toFixed(2),
      mbOf(r.peakRssBytes),
      mbOf(r.endRssBytes),
      mbOf(r.diskGrowthBytes),
      String(r.puts),
      r.putP50Ms.toFixed(1),
      r.putMaxMs.toFixed(0),
      r.serverCpuSecondsPerRound.toFixed(2),
    ]),
  }
  const end = `load average at end: ${loadAverage()}`
  const text = [...facts, end, '', renderText(table)].join('\n')
  const markdown = [
    '### Hostile clients',
    '',
    `Each flood lasts ${opts.seconds} s: ${FLOODERS} WebSockets that never read, each sending a 2 MB frame every ${FRAME_EVERY_MS} ms; ` +
      'the slow message is a watch create sent in 1,001 frames. Replays read 50,000 revisions (16-byte values) from revision 1 ' +
        'over every key, or start from revision 1 on a key or prefix those revisions never touched; ' +
      'paused watchers stop reading while 169 puts of 16 KB go to their key; unread snapshots are held 10 s on ~60 MB of revisions. ' +
      'Another client puts one key every 20 ms meanwhile; a load over before that client has made ' +
      `${MIN_PUTS} puts runs again, back to back, until it has ("rounds"). ` +
      'A fresh server for each load, filled first where the load says so, then warmed with 200 puts; RSS after = 2 s after the clients left; ' +
      '"load s" is how long one round of the load itself took (the median), "server CPU s" the CPU of one round.',
    '',
    ...facts.map((f) => `- ${f}`),
    `- ${end}`,
    '',
    renderMarkdown(table),
  ].join('\n')
  return { text, markdown }
}
