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
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { checkSteps, outputPattern, README_ENDPOINT, ROOT, sectionOf, stepsOf } from '../helpers/readme-steps.js'
import { startServe } from '../helpers/serve-process.js'

const HEADING = '## curl in 60 seconds'

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
  await checkSteps(t, steps, server.url)
})
