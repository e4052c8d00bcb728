/**
 * The README's "curl in 60 seconds" section, run as a newcomer would: every command of its ```sh blocks,
 * in order, in one bash shell (so `LEASE=$(...)` carries over) started in the checkout, against a fresh
 * `etcdgw serve`, with curl and node from PATH. The one change to the commands: the README's endpoint
 * 127.0.0.1:2379 becomes the test server's port.
 *
 * The section's layout, which this test enforces:
 * - a command is one line that is neither blank nor a comment;
 * - the `# ` lines right under it (`#` alone: an empty line) are all it prints, stdout and stderr; a blank
 *   line ends them, so an explaining comment comes before its command, after a blank line;
 * - in those lines `...` stands for any run of characters other than `{ } [ ]` and newlines (so it never
 *   spans into or out of a JSON object or array): the README says where things differ from machine to
 *   machine. Everything else is compared byte for byte.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startServe } from '../helpers/serve-process.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const HEADING = '## curl in 60 seconds'
const README_ENDPOINT = '127.0.0.1:2379'
/** Bounds the whole section, whose commands all end by themselves (the watches after their events). */
const SECTION_TIMEOUT_MS = 120_000

interface Step {
  command: string
  /** the lines it prints, `...` as wildcards */
  expected: string[]
}

function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}" in the README`)
  const next = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, next === -1 ? undefined : next)
}

function stepsOf(section: string): Step[] {
  const steps: Step[] = []
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!)
  for (const block of blocks) {
    let current: Step | undefined
    for (const line of block.split('\n')) {
      if (line.trim() === '') {
        current = undefined
      } else if (line.startsWith('#')) {
        // output right under a command, else an explaining comment
        if (current) current.expected.push(line === '#' ? '' : line.replace(/^# /, ''))
      } else {
        if (line.endsWith('\\')) throw new Error(`a command on several lines: ${line}`)
        current = { command: line, expected: [] }
        steps.push(current)
      }
    }
  }
  return steps
}

const WILDCARD = '[^{}\\[\\]\\n]*'
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The README's shown output as a whole-text pattern, `...` being the only wildcard. */
function outputPattern(expected: string[]): RegExp {
  return new RegExp('^' + expected.join('\n').split('...').map(escapeRegExp).join(WILDCARD) + '$')
}

const marker = (i: number) => `\u001fREADME-STEP-${i}\u001f`

/** One bash script running the steps in order, stderr into stdout; a marker line after each step's output splits them. */
function scriptOf(steps: Step[], endpoint: string): string {
  const run = (s: Step, i: number) => `${s.command.replaceAll(README_ENDPOINT, endpoint)}\nprintf '\\n%s\\n' '${marker(i)}'\n`
  return 'exec 2>&1\n' + steps.map(run).join('')
}

/**
 * Runs the script under coreutils' timeout, which stops the whole process group (a watch still waiting
 * for its events included) at the deadline, even when this process was killed before.
 */
function runBash(script: string): Promise<{ stdout: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const seconds = String(SECTION_TIMEOUT_MS / 1000)
    const child = spawn('timeout', ['--kill-after=5', seconds, 'bash', '--noprofile', '--norc', '-c', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    // timeout's own complaints
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.on('error', reject)
    // timeout's status when the deadline passed
    child.on('close', (code) => resolve({ stdout, timedOut: code === 124 || code === 137 }))
  })
}

/** What step i printed: the text before its marker, without the newline the marker line adds nor a final one. */
function outputsOf(stdout: string, count: number): string[] {
  const outputs: string[] = []
  let from = 0
  for (let i = 0; i < count; i++) {
    const at = stdout.indexOf(`\n${marker(i)}\n`, from)
    if (at === -1) break
    outputs.push(stdout.slice(from, at).replace(/\n$/, ''))
    from = at + marker(i).length + 2
  }
  return outputs
}

t.test('the layout: outputs under their command, `...` stays within one JSON object or array', async (t) => {
  const steps = stepsOf(
    '\n## s\n```sh\n# explains\ncmd one\n# {"a":{...,"b":"1"}}\n#\n# x\n\n# explains\ncmd two\ncmd three\n# ...\n```\n',
  )
  t.same(steps, [
    { command: 'cmd one', expected: ['{"a":{...,"b":"1"}}', '', 'x'] },
    { command: 'cmd two', expected: [] },
    { command: 'cmd three', expected: ['...'] },
  ])
  const header = outputPattern(['{"header":{...,"revision":"2",...}}'])
  t.match('{"header":{"cluster_id":"1","member_id":"2","revision":"2","raft_term":"2"}}', header)
  t.notMatch('{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"}}', header)
  t.notMatch('{"header":{"cluster_id":"1","revision":"2","x":{}}}', header, 'no wildcard across braces')
  t.notMatch('{"header":{"cluster_id":"1","revision":"2","raft_term":"2"}}\n', header, 'no extra line')
  t.match('', outputPattern(['...']))
  t.notMatch('1\n2', outputPattern(['...']), 'no wildcard across lines')
})

t.test('every command of the README section prints what the README shows', async (t) => {
  const steps = stepsOf(sectionOf(readFileSync(join(ROOT, 'README.md'), 'utf8'), HEADING))
  const commands = steps.map((s) => s.command).join('\n')
  // what the section promises to show, in text mode and in base64 mode
  for (const route of ['kv/put', 'kv/range', 'kv/deleterange', 'kv/txn', 'lease/grant', 'lease/timetolive', 'lease/revoke']) {
    t.match(commands, `${README_ENDPOINT}/v3/${route}?encoding=utf8'`, `${route} in text mode`)
    t.match(commands, `${README_ENDPOINT}/v3/${route} `, `${route} in base64 mode`)
  }
  t.match(commands, `ws://${README_ENDPOINT}/v3/watch?encoding=utf8'`, 'watch in text mode')
  t.match(commands, `ws://${README_ENDPOINT}/v3/watch'`, 'watch in base64 mode')

  const server = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', join(t.testdir(), 'data')])
  const { stdout, timedOut } = await runBash(scriptOf(steps, new URL(server.url).host))
  const outputs = outputsOf(stdout, steps.length)
  t.notOk(timedOut, `the section ends within ${SECTION_TIMEOUT_MS} ms`)
  t.equal(outputs.length, steps.length, 'every command ran', { stdout })
  outputs.forEach((output, i) => t.match(output, outputPattern(steps[i]!.expected), steps[i]!.command))
})
