/**
 * The README's "Access control" walk-through, run as shown (its first ```sh block) against a fresh
 * `etcdgw serve` with etcd's default bcrypt cost: users, roles, enable, tokens in each header, the
 * WebSocket subprotocol token, root's view. Layout and comparison as for "curl in 60 seconds".
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkSteps, ROOT, sectionOf, stepsOf } from '../helpers/readme-steps.js'
import { startServe } from '../helpers/serve-process.js'

t.test('the Access control walk-through prints what the README shows', async (t) => {
  const section = sectionOf(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## Access control')
  const firstBlock = /^```sh\n[\s\S]*?^```$/m.exec(section)![0]
  const steps = stepsOf(firstBlock)
  t.ok(steps.length >= 15, `${steps.length} commands`)
  const server = await startServe(t, ['--listen-client-urls', 'http://127.0.0.1:0', '--data-dir', join(t.testdir(), 'data')])
  await checkSteps(t, steps, server.url)
})
