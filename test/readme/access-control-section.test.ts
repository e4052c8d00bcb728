/**
 * The README's "Access control" walk-through, run as shown (its first ```sh block) against a fresh
 * `etcdgw serve` with etcd's default bcrypt cost: users, roles, enable, tokens in each header, the
 * WebSocket subprotocol token, root's view. Layout and comparison as for "curl in 60 seconds".
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { outputPattern, outputsOf, ROOT, runBash, scriptOf, SECTION_TIMEOUT_MS, sectionOf, stepsOf } from '../helpers/readme-steps.js'
import { startServe } from '../helpers/serve-process.js'

t.test('the Access control walk-through prints what the README shows', async (t) => {
  const section = sectionOf(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Access control')
  const firstBlock = /^```sh\n[\s\S]*?^```$/m.exec(section)![0]
  const steps = stepsOf(firstBlock)
  t.ok(steps.length >= 15, `${steps.length} commands`)
  const server = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', join(t.testdir(), 'data')])
  const { stdout, timedOut } = await runBash(scriptOf(steps, new URL(server.url).host))
  const outputs = outputsOf(stdout, steps.length)
  t.notOk(timedOut, `the section ends within ${SECTION_TIMEOUT_MS} ms`)
  t.equal(outputs.length, steps.length, 'every command ran', { stdout })
  outputs.forEach((output, i) => t.match(output, outputPattern(steps[i]!.expected), steps[i]!.command))
})
