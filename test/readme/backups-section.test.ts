/**
 * The README's "Backups that run themselves" section names only what exists: each flag it gives an
 * `etcdgw backup` command is in that command's help, and each metric its table and alert rules use is one
 * the backup metrics export.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { BackupMetrics } from '../../src/backup/metrics.js'
import { etcdgw } from '../helpers/snapshot-workload.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const HEADING = '### Backups that run themselves'

function section(): string {
  const markdown = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = markdown.indexOf(`\n${HEADING}\n`)
  if (start === -1) throw new Error(`no "${HEADING}" in the README`)
  const next = markdown.slice(start + 1).search(/\n##+ /)
  return markdown.slice(start, start + 1 + next)
}

t.test('every flag of every etcdgw backup command in the section exists', async (t) => {
  const text = section()
  const commands = [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) => m[1]!.replace(/\\\n/g, ' ').split('\n').filter((l) => l.startsWith('etcdgw backup ')))
  t.ok(commands.some((c) => c.includes("--schedule '0 */6 * * *' --dir /backup/etcd --keep-for 7d")), 'the command that replaces the cron script')
  const helps = new Map<string, string>()
  for (const command of commands) {
    const sub = command.split(/\s+/)[2]!
    if (!helps.has(sub)) helps.set(sub, (await etcdgw(['backup', sub, '--help'])).stdout)
    for (const flag of command.match(/--[a-z0-9-]+/g) ?? []) t.match(helps.get(sub), new RegExp(`${flag}\\b`), `backup ${sub} ${flag}`)
  }
  t.same([...helps.keys()].sort(), ['list', 'now', 'restore', 'run', 'verify'])
})

t.test('the serve flags the section names exist', async (t) => {
  const help = (await etcdgw(['serve', '--help'])).stdout
  const named = [...new Set([...section().matchAll(/`(--backup-[a-z-]+)`/g)].map((m) => m[1]!))]
  t.equal(named.length, 5)
  for (const flag of named) t.match(help, new RegExp(`${flag} <value>`), flag)
})

t.test('every metric the section names is exported', async (t) => {
  const exported = (await new BackupMetrics().registry.getMetricsAsJSON()).map((m) => m.name)
  const named = new Set([...section().matchAll(/etcdgw_backup_[a-z_]+/g)].map((m) => m[0]))
  t.ok(named.size >= 8)
  for (const name of named) t.ok(exported.includes(name), name)
})
