/**
 * JWT tokens as etcd makes them (--auth-token jwt,…): with the same keys, a token real etcd issued works
 * on etcdgw and one etcdgw issued works on etcd; a password change makes both stale the same way; forged,
 * expired and other-key tokens are refused. Keys and certificates from `etcdgw certs`.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { JwtTokens } from '../../src/auth/jwt-tokens.js'
import { parseAuthToken } from '../../src/auth/token-config.js'
import { etcdMissing, startEtcd } from '../helpers/etcd.js'
import { etcdgw } from '../helpers/snapshot-workload.js'
import { makeTestPki, removeTestPki } from '../helpers/tls-certs.js'
import { startOurs } from '../helpers/servers.js'
import { AuthSession, b64, ROOT_AND_APP1 } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

const setup = ROOT_AND_APP1

const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>
const range = (s: AuthSession, token: string) => s.send({ path: '/v3/kv/range', body: { key: b64('app/x') }, headers: { authorization: token } })

t.test('JWT tokens, etcd and etcdgw alike', async (t) => {
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  for (const [keyType, method] of [['RSA-2048', 'RS256'], ['ECDSA-P256', 'ES256']] as const) {
    t.test(method, async (t) => {
      const out = join(pki.dir, method)
      const issued = await etcdgw(['certs', 'issue', 'client', '--user', 'jwt', '--key-type', keyType, '--dir', pki.dir, '--out-dir', out])
      t.equal(issued.code, 0, issued.stderr)
      const flag = `jwt,pub-key=${join(out, 'jwt.crt')},priv-key=${join(out, 'jwt.key')},sign-method=${method},ttl=10m`
      const [etcd, ours] = await Promise.all([
        startEtcd({ fastElection: true, flags: ['--bcrypt-cost', '4', '--auth-token', flag], teardown: t }),
        startOurs(t, { backend: { bcryptCost: 4, authToken: parseAuthToken(flag) } }),
      ])
      const [theirs, mine] = [new AuthSession(etcd.url), new AuthSession(ours.url)]
      t.strictSame(await mine.run(setup), await theirs.run(setup), 'the same answers')
      const [etcdToken, ourToken] = [theirs.tokens.get('app1')!, mine.tokens.get('app1')!]
      t.strictSame(Object.keys(claims(ourToken)), Object.keys(claims(etcdToken)), 'the same claims')
      t.equal(claims(ourToken).revision, claims(etcdToken).revision, 'at the same auth revision')
      t.match(await range(mine, etcdToken), / 200 /, "etcd's token works on etcdgw")
      t.match(await range(theirs, ourToken), / 200 /, "etcdgw's token works on etcd")

      const forged = ourToken.slice(0, -4) + (ourToken.endsWith('AAAA') ? 'BBBB' : 'AAAA')
      const [header, payload] = ourToken.split('.')
      const otherUser = `${header}.${Buffer.from(JSON.stringify({ ...claims(ourToken), username: 'root' })).toString('base64url')}.${ourToken.split('.')[2]}`
      const expired = await new JwtTokens(
        { signMethod: method, ttlMs: 1000, privateKey: createPrivateKey(readFileSync(join(out, 'jwt.key'))), publicKey: createPublicKey(readFileSync(join(out, 'jwt.crt'))) },
        () => Date.now() - 60_000,
      ).assign('app1', Number(claims(ourToken).revision))
      const otherKey = await new JwtTokens({ signMethod: 'RS256', ttlMs: 60_000, privateKey: createPrivateKey(readFileSync(pki.server.key)) }).assign('app1', 1)
      for (const [what, token] of [['forged signature', forged], ['changed claims', otherUser], ['expired', expired], ['another key', otherKey], ['no signature', `${header}.${payload}.`]]) {
        const [a, b] = [await range(mine, token), await range(theirs, token)]
        t.equal(a, b, what)
        t.match(a, / 401 .*invalid auth token/, what)
      }

      const changepw = { path: '/v3/auth/user/changepw', body: { name: 'app1', password: 'b' }, as: 'root' }
      t.strictSame(await mine.send(changepw), await theirs.send(changepw))
      const [a, b] = [await range(mine, ourToken), await range(theirs, etcdToken)]
      t.equal(a, b, 'a token from before a password change')
      t.match(a, /revision of auth store is old/)
    })
  }
})

t.test('the --auth-token flag', async (t) => {
  t.strictSame(parseAuthToken('simple'), { kind: 'simple' })
  t.throws(() => parseAuthToken('jwt'), /sign-method must be one of/)
  t.throws(() => parseAuthToken('jwt,sign-method=RS256'), /RS256 needs pub-key/)
  t.throws(() => parseAuthToken('jwt,sign-method=HS256'), /HS256 needs priv-key/)
  t.throws(() => parseAuthToken('jwt,sign-method=RS256,color=blue'), /unknown option "color=blue"/)
  t.throws(() => parseAuthToken('oauth'), /must be "simple" or "jwt,…"/)
  const pki = await makeTestPki()
  t.teardown(() => removeTestPki(pki))
  t.throws(() => parseAuthToken(`jwt,sign-method=ES256,pub-key=${pki.server.cert}`), /is not a key for ES256/, 'an RSA key for ES256')
  t.match(parseAuthToken(`jwt,sign-method=RS256,pub-key=${pki.server.cert},ttl=1h`), { kind: 'jwt', ttlMs: 3_600_000 }, 'verify only')
  for (const [flags, message] of [
    [['--auth-token', 'jwt,sign-method=XX1'], /--auth-token jwt: sign-method must be one of/],
    [['--bcrypt-cost', '3'], /--bcrypt-cost must be from 4 to 31, not 3/],
    [['--auth-token-ttl', '0'], /--auth-token-ttl/],
  ] as const) {
    const refused = await etcdgw(['serve', '--data-dir', join(t.testdir(), 'never'), ...flags])
    t.not(refused.code, 0, flags.join(' '))
    t.match(refused.stderr, message)
  }
})
