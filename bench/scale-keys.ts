/**
 * The keys the scale and console sections load: `scale/00000000` …, written over HTTP in txns, IN_FLIGHT
 * at a time, on keep-alive connections as a client library would keep them. etcd's JSON gateway and
 * etcdgw take the same requests.
 */
import { Agent, request } from 'node:http'

export const IN_FLIGHT = 8
/** Every loaded key starts with it. */
export const KEY_PREFIX = 'scale/'

export const keyOf = (i: number) => `${KEY_PREFIX}${String(i).padStart(8, '0')}`

export function b64(s: string | Buffer): string {
  return Buffer.from(s).toString('base64')
}

/** One keep-alive connection per request in flight. */
const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT })

/** POSTs `body` as JSON to `url` + `path`; the parsed answer, or an error naming the path unless it is a 200. */
export function call<T>(url: string, path: string, body: unknown): Promise<T> {
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${res.statusCode} ${text.slice(0, 300)}`))
        else resolve(JSON.parse(text) as T)
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** Loads keys 0 … `keys` − 1 in txns of `batch` puts (values base64), IN_FLIGHT at a time; the seconds it took. */
export async function loadKeys(url: string, keys: number, batch: number, valueOf: (i: number) => string): Promise<number> {
  const started = performance.now()
  let next = 0
  const writer = async () => {
    while (next < keys) {
      const from = next
      next = Math.min(keys, next + batch)
      const success = []
      for (let i = from; i < next; i++) success.push({ request_put: { key: b64(keyOf(i)), value: valueOf(i) } })
      await call(url, '/v3/kv/txn', { success })
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer))
  return (performance.now() - started) / 1000
}

/** Closes the kept connections, at the end of a section. */
export function closeConnections(): void {
  agent.destroy()
}
