import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { median } from './stats.js'

/**
 * Median time of one 4 KiB write + fdatasync in the temp dir (where the servers keep their data), over
 * at most `count` syncs or `budgetMs`. Durable puts wait on this, so it puts put numbers in context:
 * on a shared disk it varies by 10× within minutes.
 */
export function fdatasyncMs(count = 200, budgetMs = 2000): number {
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-bench-disk-'))
  const fd = openSync(join(dir, 'probe'), 'w')
  const page = Buffer.alloc(4096, 1)
  const times: number[] = []
  const deadline = performance.now() + budgetMs
  try {
    for (let i = 0; i < count && performance.now() < deadline; i++) {
      const t = performance.now()
      writeSync(fd, page, 0, page.length, (i % 16) * page.length)
      fdatasyncSync(fd)
      times.push(performance.now() - t)
    }
  } finally {
    closeSync(fd)
    rmSync(dir, { recursive: true, force: true })
  }
  return median(times)
}
