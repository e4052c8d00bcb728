/** Passwords and tokens never reach the logs (at trace level), the metrics or an answer; hashes are never returned. */
import { Writable } from 'node:stream'
import t from 'tap'
import { startOurs } from '../helpers/servers.js'
import { AuthSession } from '../helpers/auth-client.js'

t.test('no secret in logs, metrics or answers', async (t) => {
  let logs = ''
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => ((logs += chunk.toString()), done()) })
  const ours = await startOurs(t, { backend: { bcryptCost: 4 }, app: { logger: { level: 'trace', stream } } })
  const s = new AuthSession(ours.url)
  const secrets = ['root-secret-pw', 'app-secret-pw', 'wrong-secret-pw', 'changed-secret-pw']
  const answers = await s.run([
    { path: '/v3/auth/user/add', body: { name: 'root', password: secrets[0] } },
    { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
    { path: '/v3/auth/user/add', body: { name: 'app', password: secrets[1] } },
    { path: '/v3/auth/enable' },
    { path: '/v3/auth/authenticate', body: { name: 'app', password: secrets[2] } },
    { path: '/v3/auth/authenticate', body: { name: 'root', password: secrets[0] }, save: 'root' },
    { path: '/v3/auth/authenticate', body: { name: 'app', password: secrets[1] }, save: 'app' },
    { path: '/v3/auth/user/get', body: { name: 'app' }, as: 'root' },
    { path: '/v3/auth/user/list', as: 'app' },
    { path: '/v3/kv/range', body: { key: 'YQ==' }, headers: { authorization: 'Bearer not-a-token-secret' } },
    { path: '/v3/auth/user/changepw', body: { name: 'app', password: secrets[3] }, as: 'root' },
    { path: '/v3/kv/range', body: { key: 'YQ==' }, as: 'app' },
  ])
  const tokens = [...s.tokens.values(), 'not-a-token-secret']
  const metrics = await (await fetch(`${ours.url}/metrics`)).text()
  t.ok(logs.length > 1000, 'the server logged each request')
  for (const secret of [...secrets, ...tokens]) {
    t.notOk(logs.includes(secret), 'not in the logs')
    t.notOk(metrics.includes(secret), 'not in the metrics')
    t.notOk(answers.some((a) => a.includes(secret)), 'not in an answer')
  }
  t.notOk(answers.some((a) => a.includes('$2')), 'no bcrypt hash in an answer')
})
