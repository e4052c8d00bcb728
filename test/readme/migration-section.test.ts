/**
 * The README's "From the embedded store to a 3-node etcd cluster, and back" section, run as written: its
 * ```sh blocks in order, in one bash script in an empty directory, with `etcdgw` as this checkout's CLI and
 * real etcd and etcdctl. The one change: each loopback port the section names becomes a free one.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { etcdMissing } from '../helpers/etcd.js'
import { MAIN_JS } from '../helpers/gateway.js'
import { freePort } from '../helpers/process.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const HEADING = '### From the embedded store to a 3-node etcd cluster, and back'
const TIMEOUT_MS = 120_000

function section(markdown: string): string {
  const start = markdown.indexOf(`\n${HEADING}\n`)
  if (start === -1) throw new Error(`no "${HEADING}" in the README`)
  const next = markdown.slice(start + 1).search(/\n##+ /)
  return markdown.slice(start, next === -1 ? undefined : start + 1 + next)
}

t.test('the migration section runs as written', { skip: etcdMissing() }, async (t) => {
  const blocks = [...section(readFileSync(join(ROOT, 'README.md'), 'utf8')).matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
  t.equal(blocks.length, 4, 'four blocks of commands')
  let script = blocks.join('\n')
  const ports = [...new Set([...script.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[1]!))]
  for (const port of ports) script = script.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${await freePort()}`)
  const dir = mkdtempSync(join(tmpdir(), 'etcdgw-migration-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const child = spawn('bash', ['-c', `set -euo pipefail\netcdgw() { node ${JSON.stringify(MAIN_JS)} "$@"; }\n${script}`], {
    cwd: dir,
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  // the section's background servers are in the script's process group: none outlives the test
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // the group has ended
    }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), TIMEOUT_MS)
    child.on('close', (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  t.equal(code, 0, `exit code; stderr:\n${stderr}`)
  t.match(stdout, /^OK\nOK\nOK\nconfig\/a\n1\nSnapshot saved at embedded\.db \(.*, sha256 checked\)\n/, 'the embedded store at revision 3, saved')
  t.match(stdout, /\| +HASH +\| REVISION \| TOTAL KEYS \| TOTAL SIZE \|\n.*\n\| +[0-9a-f]+ \| +4 \|/, 'etcdctl snapshot status reads it: revision 4')
  t.equal(stdout.split('config/a\n1\n').length - 1, 3, 'revision 3 as it was, on the embedded store, the etcd cluster and back')
  t.match(stdout, /\nOK\nfrom-the-cluster\nSnapshot saved at cluster\.db\ngreeting\nfrom-the-cluster\n/, 'a write on the cluster, read on the member the snapshot comes from, and in its snapshot')
  t.match(stdout, /restored snapshot cluster\.db into back\.etcdgw \(member [0-9a-f]+, cluster [0-9a-f]+\)/)
})
