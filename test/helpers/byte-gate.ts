/**
 * A TCP relay to a loopback server that lets the first `limit` bytes through one way (over all its
 * connections) and then holds the rest (the sender is paused, TCP pushes back); the other way passes
 * freely. A transfer through it stops part-way for certain, so a test can act in the middle of it (kill
 * the writer) without racing its end.
 */
import { createServer, connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './managed-server.js'

export interface ByteGate {
  /** `http://127.0.0.1:<port>` of the relay. */
  url: string
}

/** `toServer`: what clients send is held past `limit` bytes (an upload); `toClient`: what the server sends (a download). */
export async function startByteGate(t: Teardown, targetUrl: string, held: 'toServer' | 'toClient', limit: number): Promise<ByteGate> {
  const target = new URL(targetUrl)
  const sockets = new Set<Socket>()
  let passed = 0
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    const [from, to] = held === 'toServer' ? [client, upstream] : [upstream, client]
    to.pipe(from)
    from.on('data', (chunk: Buffer) => {
      const room = Math.max(0, limit - passed)
      passed += Math.min(room, chunk.length)
      if (room > 0) to.write(chunk.subarray(0, room))
      if (chunk.length > room) from.pause()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return { url: `${target.protocol}//127.0.0.1:${(server.address() as AddressInfo).port}` }
}
