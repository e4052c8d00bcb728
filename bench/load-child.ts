import autocannon from 'autocannon'
import type { LoadResult, LoadSpec } from './load.js'
import { OPS } from './ops.js'

/** Grows as needed; a 10 s cell at ~60k req/s holds ~600k samples. */
class Samples {
  private buf = new Float64Array(1 << 16)
  length = 0

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2)
      next.set(this.buf)
      this.buf = next
    }
    this.buf[this.length++] = v
  }

  /** Nearest-rank percentiles of what was pushed. */
  percentiles(ps: number[]): number[] {
    if (this.length === 0) return ps.map(() => NaN)
    const sorted = this.buf.subarray(0, this.length).sort()
    return ps.map((p) => sorted[Math.min(this.length - 1, Math.ceil((p / 100) * this.length) - 1)])
  }
}

function main(): void {
  const spec = JSON.parse(process.argv[2]) as LoadSpec
  const op = OPS[spec.op]
  const body = op.body
  const request =
    typeof body === 'string'
      ? { method: 'POST', path: op.path, body }
      : { method: 'POST', path: op.path, setupRequest: (req: object) => ({ ...req, body: body() }) }
  const latencies = new Samples()
  const started = process.hrtime.bigint()
  const cpuAtStart = process.cpuUsage()
  const instance = autocannon(
    {
      url: spec.url,
      connections: spec.connections,
      duration: spec.durationSec,
      headers: { 'content-type': 'application/json' },
      requests: [request],
    },
    (err, res) => {
      if (err) throw err
      const elapsedSec = Number(process.hrtime.bigint() - started) / 1e9
      const cpu = process.cpuUsage(cpuAtStart)
      const [p50Ms, p99Ms] = latencies.percentiles([50, 99])
      const statusCodes = Object.fromEntries(Object.entries(res.statusCodeStats).map(([code, s]) => [code, s.count]))
      const result: LoadResult = {
        ok: res['2xx'],
        rps: res['2xx'] / elapsedSec,
        p50Ms,
        p99Ms,
        errors: res.errors + res.timeouts + res.non2xx + res.mismatches,
        statusCodes,
        clientCores: (cpu.user + cpu.system) / 1e6 / elapsedSec,
      }
      // run by hand (no IPC channel), it prints the result instead
      if (process.send) process.send(result, () => process.exit(0))
      else console.log(JSON.stringify(result))
    },
  )
  // autocannon's 'response' carries the hrtime-based duration in fractional ms; its histogram rounds to ms
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(ms)
  })
}

main()
