/**
 * The other client of the hostile-clients bench (see put-probe.ts): one put at a time to the URL in argv,
 * 20 ms apart, each one's latency sent to the parent as it ends, until the parent sends 'stop'.
 */
import { post } from './http-post.js'

const PAUSE_MS = 20
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  const url = process.argv[2]!
  let stopped = false
  process.on('message', (msg) => {
    if (msg === 'stop') stopped = true
  })
  process.send!('ready')
  for (let i = 0; !stopped; i++) {
    const start = performance.now()
    await post(url, '/v3/kv/put', JSON.stringify({ key: 'b3RoZXI=', value: Buffer.from(String(i)).toString('base64') }))
    process.send!(performance.now() - start)
    await sleep(PAUSE_MS)
  }
  process.send!('done', () => process.exit(0))
}

void main()
