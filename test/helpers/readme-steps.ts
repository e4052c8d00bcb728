/**
 * README sections run as a newcomer would: every command of a section's ```sh blocks, in order, in one
 * bash shell (so `X=$(...)` carries over) started in the checkout, the README's endpoint 127.0.0.1:2379
 * replaced by a test server's. The layout a section keeps (see test/readme/curl-section.test.ts):
 * - a command is one line that is neither blank nor a comment;
 * - the `# ` lines right under it (`#` alone: an empty line) are all it prints, stdout and stderr; a blank
 *   line ends them, so an explaining comment comes before its command, after a blank line;
 * - in those lines `...` stands for any run of characters other than `{ } [ ]` and newlines (so it never
 *   spans into or out of a JSON object or array). Everything else is compared byte for byte.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const README_ENDPOINT = '127.0.0.1:2379'
/** Bounds a whole section, whose commands all end by themselves (the watches after their events). */
const SECTION_TIMEOUT_MS = 120_000

export interface Step {
  command: string
  /** the lines it prints, `...` as wildcards */
  expected: string[]
}

export function sectionOf(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`)
  if (start === -1) throw new Error(`no "${heading}" in the README`)
  const next = markdown.indexOf('\n## ', start + 1)
  return markdown.slice(start, next === -1 ? undefined : next)
}

export function stepsOf(section: string): Step[] {
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
export function outputPattern(expected: string[]): RegExp {
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

/** Runs the steps against the server at `url` and holds each step's output to what the README shows. */
export async function checkSteps(t: Test, steps: Step[], url: string): Promise<void> {
  const { stdout, timedOut } = await runBash(scriptOf(steps, new URL(url).host))
  const outputs = outputsOf(stdout, steps.length)
  t.notOk(timedOut, `the section ends within ${SECTION_TIMEOUT_MS} ms`)
  t.equal(outputs.length, steps.length, 'every command ran', { stdout })
  outputs.forEach((output, i) => t.match(output, outputPattern(steps[i]!.expected), steps[i]!.command))
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

