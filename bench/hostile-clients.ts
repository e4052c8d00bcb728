/**
 * Hostile and careless clients, etcd beside etcdgw: what one bad stream client makes the server hold,
 * and what another client's puts cost meanwhile.
 *
 * - progress flood: 5 WebSockets on /v3/watch that never read, each sending a 2 MB frame of
 *   `{"progress_request":{}}` every 200 ms;
 * - keepalive flood: the same on /v3/lease/keepalive with renewals of one lease;
 * - slow message: one WebSocket sends a watch create in 1,000 frames of 1,000 bytes (then its end).
 *
 * The flooding clients run in this process; a client whose socket stops taking bytes is not sent more
 * than 64 MB ahead (the bench's own memory), which is still far past any server limit.
 */
import { request } from 'node:http'
import { WebSocket } from 'ws'
import { loadAverage, machineFacts, renderMarkdown, renderText, type Table } from './report.js'
import { median } from './stats.js'
import { startTarget, type Target, type TargetName } from './targets.js'

export interface HostileOptions {
  targets: TargetName[]
  /** Seconds each flood lasts. */
  seconds: number
}

interface Row {
  target: TargetName
  load: string
  peakRssBytes: number
  endRssBytes: number
  putP50Ms: number
  putMaxMs: number
  serverCpuSeconds: number
}

const FLOODERS = 5
const FRAME_EVERY_MS = 200
const CLIENT_BACKLOG_CAP = 64 * 1024 * 1024
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function post(url: string, path: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume()
      res.on('end', () => resolve())
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function openWs(url: string, path: string): Promise<WebSocket> {
  const socket = new WebSocket(url.replace(/^http/, 'ws') + path, { perMessageDeflate: false })
  socket.on('error', () => {})
  await new Promise((resolve, reject) => {
    socket.once('open', resolve)
    socket.once('error', reject)
  })
  return socket
}

/** Puts one after the other until `until` resolves; their latencies in ms. */
async function putsDuring(url: string, until: Promise<void>): Promise<number[]> {
  let done = false
  void until.then(() => (done = true))
  const latencies: number[] = []
  for (let i = 0; !done; i++) {
    const start = performance.now()
    await post(url, '/v3/kv/put', JSON.stringify({ key: 'b3RoZXI=', value: Buffer.from(String(i)).toString('base64') }))
    latencies.push(performance.now() - start)
    await sleep(20)
  }
  return latencies
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

async function measure(target: Target, load: string, run: () => Promise<void>): Promise<Row> {
  const cpuBefore = target.cpuSeconds()
  let peak = target.rssBytes()
  const sampler = setInterval(() => (peak = Math.max(peak, target.rssBytes())), 100)
  const running = run()
  const latencies = await putsDuring(target.url, running)
  await running
  // what it still holds once the clients are gone
  await sleep(2000)
  clearInterval(sampler)
  const endRss = target.rssBytes()
  return {
    target: target.name,
    load,
    peakRssBytes: Math.max(peak, endRss),
    endRssBytes: endRss,
    putP50Ms: median(latencies),
    putMaxMs: Math.max(...latencies),
    serverCpuSeconds: target.cpuSeconds() - cpuBefore,
  }
}

export async function runHostileBench(opts: HostileOptions): Promise<{ text: string; markdown: string }> {
  const facts = machineFacts()
  const rows: Row[] = []
  const progressFrame = '{"progress_request":{}}'.repeat(Math.floor((2 * 1024 * 1024) / 23))
  const keepaliveFrame = '{"ID":"4242"}'.repeat(Math.floor((2 * 1024 * 1024) / 13))
  for (const name of opts.targets) {
    for (const [load, run] of [
      ['progress flood', (url: string) => flood(url, '/v3/watch', progressFrame, opts.seconds)],
      ['keepalive flood', (url: string) => flood(url, '/v3/lease/keepalive', keepaliveFrame, opts.seconds)],
      ['slow message', (url: string) => slowMessage(url)],
    ] as const) {
      // a fresh server per load: what one load left behind does not count against the next
      const target = await startTarget(name)
      try {
        await post(target.url, '/v3/lease/grant', '{"TTL":3600,"ID":4242}')
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
    header: ['load', 'server', 'peak RSS MB', 'RSS after MB', 'other put p50 ms', 'other put max ms', 'server CPU s'],
    rows: rows.map((r) => [
      r.load,
      r.target,
      mbOf(r.peakRssBytes),
      mbOf(r.endRssBytes),
      r.putP50Ms.toFixed(1),
      r.putMaxMs.toFixed(0),
      r.serverCpuSeconds.toFixed(1),
    ]),
  }
  const end = `load average at end: ${loadAverage()}`
  const text = [...facts, end, '', renderText(table)].join('\n')
  const markdown = [
    '### Hostile clients',
    '',
    `Each flood lasts ${opts.seconds} s: ${FLOODERS} WebSockets that never read, each sending a 2 MB frame every ${FRAME_EVERY_MS} ms; ` +
      'the slow message is a watch create sent in 1,001 frames. Another client puts one key every 20 ms meanwhile. ' +
      'A fresh server for each load, warmed with 200 puts; RSS after = 2 s after the clients left.',
    '',
    ...facts.map((f) => `- ${f}`),
    `- ${end}`,
    '',
    renderMarkdown(table),
  ].join('\n')
  return { text, markdown }
}
