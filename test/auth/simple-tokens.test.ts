/** etcd's simple tokens: their shape, their TTL renewed by each use, and their end. */
import t from 'tap'
import { SimpleTokens } from '../../src/auth/simple-tokens.js'

t.test('a token lives its TTL after its last use', async (t) => {
  let now = 1_000
  const tokens = new SimpleTokens(300_000, () => now)
  const token = await tokens.assign('u1', 5, 42)
  t.match(token, /^[a-zA-Z]{16}\.42$/, '16 letters, a dot and the raft index')
  now += 299_000
  t.strictSame(tokens.info(token), { user: 'u1' }, 'used just before it ends')
  now += 299_000
  t.strictSame(tokens.info(token), { user: 'u1' }, 'that use renewed it')
  now += 300_000
  t.equal(tokens.info(token), undefined, 'unused for its TTL: gone')
  t.equal(tokens.info(token), undefined)
})

t.test('a user loses their tokens; disabling auth ends all', async (t) => {
  const tokens = new SimpleTokens(300_000)
  const [a, b, c] = [await tokens.assign('u1', 1, 1), await tokens.assign('u1', 1, 2), await tokens.assign('u2', 1, 3)]
  t.not(a, b, 'every token is new')
  tokens.invalidateUser('u1')
  t.equal(tokens.info(a), undefined)
  t.equal(tokens.info(b), undefined)
  t.strictSame(tokens.info(c), { user: 'u2' })
  tokens.clear()
  t.equal(tokens.info(c), undefined)
  t.equal(tokens.info('bogus.1'), undefined)
})
