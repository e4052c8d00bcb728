import { createServer } from 'node:http'
import { WebSocketServer, type WebSocket } from 'ws'

/**
 * The fan-out ceiling (spec §7.3's "Node ceiling"): node:http and a bare `ws` server, no store. A put
 * is answered with an etcd-shaped header, then one etcd-shaped event frame is encoded once and sent to
 * every socket that asked for a watch. What one Node process can fan out on this machine at all.
 */
const port = Number(process.argv[2])
const header = (rev: number): string =>
  `{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"${rev}","raft_term":"2"}`
let rev = 1
const watchers = new Set<WebSocket>()

const server = createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { key?: string; value?: string }
    const isPut = req.url === '/v3/kv/put'
    if (isPut) rev++
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"header":${header(rev)}}`)
    if (!isPut) return
    const kv = `{"key":"${body.key}","create_revision":"2","mod_revision":"${rev}","version":"${rev - 1}","value":"${body.value}"}`
    const frame = Buffer.from(`{"result":{"header":${header(rev)},"events":[{"kv":${kv}}]}}`)
    for (const ws of watchers) ws.send(frame, { binary: false })
  })
})
const wss = new WebSocketServer({ server, path: '/v3/watch', perMessageDeflate: false })
wss.on('connection', (ws) => {
  ws.once('message', () => {
    ws.send(`{"result":{"header":${header(rev)},"created":true}}`)
    watchers.add(ws)
  })
  ws.on('close', () => watchers.delete(ws))
})
server.listen(port, '127.0.0.1')
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(0))
