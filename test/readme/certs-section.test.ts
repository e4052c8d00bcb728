/**
 * The certificate workflows of the README's "Certificates" section and of pki/README.md, run as shown: every
 * line of their ```sh blocks that is not a comment is a command; each document's commands run in order in one
 * bash shell started in an empty directory, with `etcdgw` being this build and openssl from PATH, and each must
 * exit 0. The README's Prometheus rule file must parse and alert on metrics the textfile really has.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const MAIN = join(ROOT, 'dist/src/main.js')
const TIMEOUT_S = 240

function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}"`)
  const next = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, next === -1 ? undefined : next)
}

function commandsOf(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)]
    .flatMap((m) => m[1]!.split('\n'))
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
}

/** One bash script: each command, then stop with its line and status unless it succeeded. */
function scriptOf(commands: string[]): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`
  return [
    `etcdgw() { ${quote(process.execPath)} ${quote(MAIN)} "$@"; }`,
    ...commands.map((command) => `${command}\nstatus=$?; if [ $status -ne 0 ]; then echo "FAILED with status $status: "${quote(command)}; exit 1; fi`),
    'echo ALL-COMMANDS-RAN',
  ].join('\n')
}

function runBash(script: string, cwd: string): Promise<{ output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn('timeout', ['--kill-after=5', String(TIMEOUT_S), 'bash', '--noprofile', '--norc', '-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ output, code }))
  })
}

const documents = [
  { name: 'README.md, section Certificates', text: async () => sectionOf(await readFile(join(ROOT, 'README.md'), 'utf8'), '## Certificates') },
  { name: 'pki/README.md', text: () => readFile(join(ROOT, 'pki/README.md'), 'utf8') },
]

for (const doc of documents) {
  t.test(`every command of ${doc.name} runs`, async (t) => {
    const commands = commandsOf(await doc.text())
    t.ok(commands.length > 20, `${commands.length} commands`)
    for (const workflow of ['certs init', 'issue member', 'issue client', 'check-expiration', 'verify', 'renew', 'rotate-ca', 'generate-csr', '--key-type', '--add-san', '-o prometheus']) {
      t.ok(commands.some((c) => c.includes(workflow)), `shows ${workflow}`)
    }
    const dir = await mkdtemp(join(tmpdir(), 'etcdgw-readme-certs-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const { output, code } = await runBash(scriptOf(commands), dir)
    t.equal(code, 0, 'bash exits 0', { output })
    t.match(output, /ALL-COMMANDS-RAN\n$/, 'every command ran and exited 0')
  })
}

t.test('the README\'s alert rules parse and use the metrics the textfile has', async (t) => {
  const section = sectionOf(await readFile(join(ROOT, 'README.md'), 'utf8'), '## Certificates')
  const yamlBlock = /^```yaml\n([\s\S]*?)^```$/m.exec(section)?.[1]
  t.ok(yamlBlock, 'a rule file')
  const rules = (parse(yamlBlock!) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules)
  t.same(rules.map((r) => r.alert), ['EtcdCertificateExpiresSoon', 'EtcdCertificateExpired', 'EtcdCertificateUnreadable'])
  const dir = await mkdtemp(join(tmpdir(), 'etcdgw-readme-rules-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const { output } = await runBash(`${scriptOf([])}\netcdgw certs init --dir ./pki --advertise-address 10.0.0.1 >/dev/null && etcdgw certs check-expiration --dir ./pki -o prometheus`, dir)
  for (const rule of rules) {
    const metric = /x509_[a-z_]+/.exec(rule.expr)![0]
    t.match(output, new RegExp(`^${metric}(\\{| )`, 'm'), `${rule.alert}: ${metric} is in the textfile`)
  }
})
