/** A failed authentication takes as long whether or not the user exists: the name does not leak. */
import t from 'tap'
import { startOurs } from '../helpers/servers.js'
import { AuthSession } from '../helpers/auth-client.js'

async function timed(s: AuthSession, name: string): Promise<number> {
  const start = process.hrtime.bigint()
  const answer = await s.send({ path: '/v3/auth/authenticate', body: { name, password: 'wrong' } })
  if (!answer.includes(' 400 ')) throw new Error(answer)
  return Number(process.hrtime.bigint() - start) / 1e6
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

t.test('a wrong password costs a bcrypt comparison, user or not', async (t) => {
  // cost 10 (etcd's default): a comparison takes tens of milliseconds, far above the request's own time
  const ours = await startOurs(t, { backend: { bcryptCost: 10 } })
  const s = new AuthSession(ours.url)
  await s.run([
    { path: '/v3/auth/user/add', body: { name: 'root', password: 'r' } },
    { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
    { path: '/v3/auth/enable' },
  ])
  const existing: number[] = []
  const missing: number[] = []
  for (let i = 0; i < 5; i++) {
    existing.push(await timed(s, 'root'))
    missing.push(await timed(s, `nobody-${i}`))
  }
  const [e, m] = [median(existing), median(missing)]
  t.ok(e > 10, `a comparison is measurable (${e.toFixed(1)} ms)`)
  t.ok(m > e / 2 && m < e * 2, `a missing user costs about the same (${m.toFixed(1)} ms vs ${e.toFixed(1)} ms)`)
})
