/**
 * A failed authentication takes as long whether or not the user exists: the name does not leak. What
 * costs the time is one bcrypt comparison, far above the request's own time; it is watched here as it is
 * made (in this process), rather than timed, which moves with the machine's load.
 */
import bcrypt from 'bcryptjs'
import t, { type Test } from 'tap'
import { startOurs } from '../helpers/servers.js'
import { AuthSession } from '../helpers/auth-client.js'

interface Comparison {
  hash: string
  done: boolean
}

/** Records every bcrypt comparison made until the test ends: the hash it ran against, and whether it finished. */
function watchComparisons(t: Test): Comparison[] {
  const made: Comparison[] = []
  const lib = bcrypt as { compare: typeof bcrypt.compare }
  const compare = lib.compare
  lib.compare = (async (password: string, hash: string) => {
    const c = { hash, done: false }
    made.push(c)
    const same = await compare(password, hash)
    c.done = true
    return same
  }) as typeof bcrypt.compare
  t.teardown(() => {
    lib.compare = compare
  })
  return made
}

t.test('a wrong password costs a bcrypt comparison at the configured cost, user or not', async (t) => {
  const ours = await startOurs(t, { backend: { bcryptCost: 10 } })
  const s = new AuthSession(ours.url)
  await s.run([
    { path: '/v3/auth/user/add', body: { name: 'root', password: 'r' } },
    { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
    { path: '/v3/auth/enable' },
  ])
  const made = watchComparisons(t)
  for (const name of ['root', 'nobody']) {
    made.length = 0
    const answer = await s.send({ path: '/v3/auth/authenticate', body: { name, password: 'wrong' } })
    t.match(answer, / 400 .*authentication failed/, `${name}: refused`)
    t.equal(made.length, 1, `${name}: one comparison`)
    // a well-formed hash (60 characters of bcrypt's alphabet) is hashed against in full, at its cost
    t.match(made[0]?.hash, /^\$2[aby]\$10\$[./A-Za-z0-9]{53}$/, `${name}: against a well-formed hash of cost 10`)
    t.ok(made[0]?.done, `${name}: the comparison ended before the answer`)
  }
})
