/**
 * etcd's Auth service and its permission checks, compared with real etcd 3.4's gateway: the same
 * requests as the same users (each server's own tokens), answers equal once tokens and ids are masked.
 */
import t, { type Test } from 'tap'
import { etcdMissing, startOurs, startOursRemote, startRealEtcd } from '../helpers/servers.js'
import { AuthSession, type AuthStep, b64 } from '../helpers/auth-client.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)

/** Every server hashes at bcrypt's lowest cost: the rules are the same, the tests faster. */
const COST = ['--bcrypt-cost', '4']

const add = (name: string, password: string): AuthStep => ({ path: '/v3/auth/user/add', body: { name, password }, as: 'root' })
const login = (name: string, password: string, save?: string): AuthStep => ({ path: '/v3/auth/authenticate', body: { name, password }, save })
const grant = (name: string, permType: string, key: string, rangeEnd?: string): AuthStep => ({
  path: '/v3/auth/role/grant',
  body: { name, perm: { permType, key: b64(key), ...(rangeEnd !== undefined ? { range_end: b64(rangeEnd) } : {}) } },
  as: 'root',
})
const kv = (path: string, body: Record<string, unknown>, as?: string): AuthStep => ({ path: `/v3/kv/${path}`, body, as })
const k = b64

/** Users, roles and their rules before auth is enabled (everyone may manage them then). */
const setup: AuthStep[] = [
  { path: '/v3/auth/user/list' },
  { path: '/v3/auth/role/list' },
  { path: '/v3/auth/enable' },
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'x' } },
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'rootpw' } },
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'again' } },
  { path: '/v3/auth/user/add', body: { name: '', password: 'x' } },
  { path: '/v3/auth/user/add', body: { name: 'nopw', options: { no_password: true } } },
  { path: '/v3/auth/user/add', body: { name: 'u1', password: 'p1' } },
  { path: '/v3/auth/user/get', body: { name: 'root' } },
  { path: '/v3/auth/user/get', body: { name: 'nobody' } },
  { path: '/v3/auth/enable' },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'nope' } },
  { path: '/v3/auth/user/grant', body: { user: 'nobody', role: 'root' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/user/get', body: { name: 'root' } },
  { path: '/v3/auth/role/get', body: { role: 'root' } },
  { path: '/v3/auth/role/grant', body: { name: 'root', perm: { key: k('a') } } },
  { path: '/v3/auth/role/add', body: { name: 'mixed' } },
  { path: '/v3/auth/role/add', body: { name: 'mixed' } },
  { path: '/v3/auth/role/add', body: { name: '' } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 'READ', key: k('a'), range_end: k('b') } } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 1, key: k('c') } } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 'READWRITE', key: k('d'), range_end: 'AA==' } } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 'READWRITE', key: k('a'), range_end: k('b') } } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 'WRITE', key: k('a'), range_end: k('a') } } },
  { path: '/v3/auth/role/grant', body: { name: 'mixed', perm: { permType: 'WRITE' } } },
  { path: '/v3/auth/role/grant', body: { name: 'nope', perm: { key: k('a') } } },
  { path: '/v3/auth/role/get', body: { role: 'mixed' } },
  { path: '/v3/auth/role/revoke', body: { role: 'mixed', key: k('c') } },
  { path: '/v3/auth/role/revoke', body: { role: 'mixed', key: k('c') } },
  { path: '/v3/auth/role/revoke', body: { role: 'mixed', key: k('a') } },
  { path: '/v3/auth/role/revoke', body: { role: 'nope', key: k('a') } },
  { path: '/v3/auth/role/get', body: { role: 'mixed' } },
  { path: '/v3/auth/user/grant', body: { user: 'u1', role: 'mixed' } },
  { path: '/v3/auth/user/revoke', body: { name: 'u1', role: 'nope' } },
  { path: '/v3/auth/user/revoke', body: { name: 'nobody', role: 'mixed' } },
  { path: '/v3/auth/user/revoke', body: { name: 'u1', role: 'mixed' } },
  { path: '/v3/auth/user/revoke', body: { name: 'u1', role: 'mixed' } },
  { path: '/v3/auth/role/delete', body: { role: 'nope' } },
  { path: '/v3/auth/role/delete', body: { role: 'mixed' } },
  { path: '/v3/auth/user/delete', body: { name: 'nobody' } },
  { path: '/v3/auth/user/changepw', body: { name: 'nobody', password: 'x' } },
  { path: '/v3/auth/user/list' },
  { path: '/v3/auth/role/list' },
  { path: '/v3/auth/enable' },
  { path: '/v3/auth/enable' },
]

/** The permission matrix: READ, WRITE and READWRITE on a prefix, a range and a key, as user u1. */
const matrix: AuthStep[] = [
  login('root', 'wrong'),
  login('nouser', 'x'),
  login('', ''),
  login('nopw', ''),
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'rootpw' }, headers: { authorization: 'bogus' } },
  login('root', 'rootpw', 'root'),
  login('u1', 'p1', 'u1'),
  { path: '/v3/auth/role/add', body: { name: 'prefix-read' }, as: 'root' },
  { path: '/v3/auth/role/add', body: { name: 'range-write' }, as: 'root' },
  { path: '/v3/auth/role/add', body: { name: 'key-readwrite' }, as: 'root' },
  grant('prefix-read', 'READ', 'r/', 'r0'),
  grant('range-write', 'WRITE', 'w/a', 'w/m'),
  grant('key-readwrite', 'READWRITE', 'x'),
  ...['prefix-read', 'range-write', 'key-readwrite'].map((role) => ({ path: '/v3/auth/user/grant', body: { user: 'u1', role }, as: 'root' })),
  kv('put', { key: k('r/1'), value: k('v') }, 'root'),
  kv('put', { key: k('w/b'), value: k('v') }, 'root'),
  kv('put', { key: k('secret'), value: k('v') }, 'root'),
  // range
  kv('range', { key: k('r/1') }, 'u1'),
  kv('range', { key: k('r/'), range_end: k('r0') }, 'u1'),
  kv('range', { key: k('r/'), range_end: k('r1') }, 'u1'),
  kv('range', { key: k('r/a'), range_end: k('r/b') }, 'u1'),
  kv('range', { key: k('w/b') }, 'u1'),
  kv('range', { key: k('x') }, 'u1'),
  kv('range', { key: k('x'), range_end: 'AA==' }, 'u1'),
  kv('range', { key: k('secret') }, 'u1'),
  kv('range', { key: k('secret') }),
  kv('range', { key: k('secret') }, 'root'),
  kv('range', { key: 'AA==', range_end: 'AA==' }, 'root'),
  kv('range', { key: '' }, 'u1'),
  // put
  kv('put', { key: k('w/c'), value: k('v') }, 'u1'),
  kv('put', { key: k('w/z'), value: k('v') }, 'u1'),
  kv('put', { key: k('r/1'), value: k('v') }, 'u1'),
  kv('put', { key: k('x'), value: k('v') }, 'u1'),
  kv('put', { key: k('w/c'), value: k('v2'), prev_kv: true }, 'u1'),
  kv('put', { key: k('x'), value: k('v2'), prev_kv: true }, 'u1'),
  kv('put', { key: k('x'), value: k('v') }),
  kv('put', { key: '', value: k('v') }),
  // delete
  kv('deleterange', { key: k('w/c') }, 'u1'),
  kv('deleterange', { key: k('w/a'), range_end: k('w/m') }, 'u1'),
  kv('deleterange', { key: k('w/a'), range_end: k('w/n') }, 'u1'),
  kv('deleterange', { key: k('w/b'), prev_kv: true }, 'u1'),
  kv('deleterange', { key: k('r/1') }, 'u1'),
  kv('deleterange', { key: k('x'), prev_kv: true }, 'u1'),
  // txn: every compare is read, every op of both branches checked whichever runs
  kv('txn', { compare: [{ key: k('r/1'), target: 'VERSION', version: 1 }], success: [{ request_put: { key: k('w/b'), value: k('t') } }] }, 'u1'),
  kv('txn', { compare: [{ key: k('w/b'), target: 'VERSION', version: 1 }], success: [{ request_put: { key: k('w/b'), value: k('t') } }] }, 'u1'),
  kv('txn', { compare: [{ key: k('r/1'), range_end: k('r0'), target: 'MOD', mod_revision: 0, result: 'GREATER' }] }, 'u1'),
  kv('txn', { success: [{ request_range: { key: k('w/b') } }] }, 'u1'),
  kv('txn', { compare: [{ key: k('x'), target: 'VALUE', value: k('nomatch') }], failure: [{ request_put: { key: k('r/1'), value: k('t') } }] }, 'u1'),
  kv('txn', { failure: [{ request_delete_range: { key: k('w/b'), prev_kv: true } }] }, 'u1'),
  kv('txn', { success: [{ request_delete_range: { key: k('w/b') } }, { request_range: { key: k('x') } }] }, 'u1'),
  kv('txn', {}, 'u1'),
  kv('txn', {}),
  // leases: revoke needs write on every attached key
  { path: '/v3/lease/grant', body: { TTL: 300, ID: 100 }, as: 'u1' },
  { path: '/v3/lease/grant', body: { TTL: 300, ID: 101 } },
  { path: '/v3/lease/grant', body: { TTL: 300, ID: 102 }, headers: { authorization: 'bogus' } },
  { path: '/v3/lease/grant', body: { TTL: 300, ID: 103 }, as: 'root' },
  kv('put', { key: k('secret'), value: k('v'), lease: 100 }, 'root'),
  kv('put', { key: k('w/d'), value: k('v'), lease: 101 }, 'u1'),
  kv('put', { key: k('w/e'), value: k('v'), lease: 100 }, 'u1'),
  { path: '/v3/lease/revoke', body: { ID: 100 }, as: 'u1' },
  { path: '/v3/lease/revoke', body: { ID: 100 } },
  { path: '/v3/lease/revoke', body: { ID: 101 }, as: 'u1' },
  { path: '/v3/lease/revoke', body: { ID: 103 } },
  { path: '/v3/lease/revoke', body: { ID: 999 }, as: 'u1' },
  { path: '/v3/lease/revoke', body: { ID: 999 }, headers: { authorization: 'bogus' } },
  { path: '/v3/lease/timetolive', body: { ID: 100 }, headers: { authorization: 'bogus' } },
  { path: '/v3/lease/revoke', body: { ID: 100 }, as: 'root' },
  // tokens: etcd's headers, and what is not a token
  kv('range', { key: k('x') }, undefined),
  { ...kv('range', { key: k('x') }), headers: { authorization: 'bogus' } },
  { ...kv('range', { key: k('x') }), headers: { authorization: 'bogus.1' } },
  { ...kv('range', { key: k('x') }), headers: { token: 'bogus' } },
  // compaction and maintenance: root only where etcd requires root, with etcd's unconverted errors
  kv('compaction', { revision: 2 }, 'u1'),
  kv('compaction', { revision: 3 }),
  { ...kv('compaction', { revision: 3 }), headers: { authorization: 'bogus' } },
  { path: '/v3/maintenance/hash', as: 'u1' },
  { path: '/v3/maintenance/hash' },
  { path: '/v3/maintenance/hash', headers: { authorization: 'bogus' } },
  { path: '/v3/maintenance/defragment', as: 'u1' },
  { path: '/v3/maintenance/defragment' },
  { path: '/v3/maintenance/snapshot', as: 'u1' },
  { path: '/v3/maintenance/snapshot' },
  { path: '/v3/maintenance/alarm' },
  { path: '/v3/maintenance/alarm', as: 'u1' },
  { path: '/v3/maintenance/alarm', headers: { authorization: 'bogus' } },
  { path: '/v3/cluster/member/add', body: { peerURLs: ['http://127.0.0.1:1'] }, as: 'u1' },
  { path: '/v3/cluster/member/add', body: { peerURLs: ['http://127.0.0.1:1'] } },
  { path: '/v3/cluster/member/remove', body: { ID: 1 }, as: 'u1' },
  { path: '/v3/cluster/member/update', body: { ID: 1 }, headers: { authorization: 'bogus' } },
  // the Auth service as a user: themselves and their roles only
  { path: '/v3/auth/user/get', body: { name: 'u1' }, as: 'u1' },
  { path: '/v3/auth/user/get', body: { name: 'root' }, as: 'u1' },
  { path: '/v3/auth/role/get', body: { role: 'prefix-read' }, as: 'u1' },
  { path: '/v3/auth/role/get', body: { role: 'mixed' }, as: 'u1' },
  { path: '/v3/auth/user/list', as: 'u1' },
  { path: '/v3/auth/role/list', as: 'u1' },
  { path: '/v3/auth/user/changepw', body: { name: 'u1', password: 'x' }, as: 'u1' },
  { path: '/v3/auth/user/add', body: { name: 'u9', password: 'x' }, as: 'u1' },
  { path: '/v3/auth/user/add', body: { name: 'u9', password: 'x' } },
  { path: '/v3/auth/user/get', body: { name: 'u1' }, headers: { authorization: 'bogus' } },
  { path: '/v3/auth/disable', as: 'u1' },
  // root's own rules
  { path: '/v3/auth/user/revoke', body: { name: 'root', role: 'root' }, as: 'root' },
  { path: '/v3/auth/user/delete', body: { name: 'root' }, as: 'root' },
  { path: '/v3/auth/role/delete', body: { role: 'root' }, as: 'root' },
  { path: '/v3/auth/role/add', body: { name: 'root' }, as: 'root' },
  { path: '/v3/auth/role/get', body: { role: 'root' }, as: 'root' },
  { path: '/v3/auth/role/list', as: 'root' },
]

/** Changes take effect on the next request: a revoked permission, a new password, a deleted user, disable. */
const changes: AuthStep[] = [
  kv('range', { key: k('r/1') }, 'u1'),
  { path: '/v3/auth/role/revoke', body: { role: 'prefix-read', key: k('r/'), range_end: k('r0') }, as: 'root' },
  kv('range', { key: k('r/1') }, 'u1'),
  grant('prefix-read', 'READ', 'r/', 'r0'),
  kv('range', { key: k('r/1') }, 'u1'),
  { path: '/v3/auth/user/revoke', body: { name: 'u1', role: 'prefix-read' }, as: 'root' },
  kv('range', { key: k('r/1') }, 'u1'),
  { path: '/v3/auth/user/grant', body: { user: 'u1', role: 'prefix-read' }, as: 'root' },
  { path: '/v3/auth/role/delete', body: { role: 'prefix-read' }, as: 'root' },
  kv('range', { key: k('r/1') }, 'u1'),
  { path: '/v3/auth/user/get', body: { name: 'u1' }, as: 'root' },
  { path: '/v3/auth/user/changepw', body: { name: 'u1', password: 'p2' }, as: 'root' },
  kv('range', { key: k('x') }, 'u1'),
  login('u1', 'p1'),
  login('u1', 'p2', 'u1'),
  kv('range', { key: k('x') }, 'u1'),
  add('u2', 'p2'),
  login('u2', 'p2', 'u2'),
  { path: '/v3/auth/user/delete', body: { name: 'u2' }, as: 'root' },
  kv('range', { key: k('x') }, 'u2'),
  login('u2', 'p2'),
  { path: '/v3/auth/user/changepw', body: { name: 'nopw', password: 'np' }, as: 'root' },
  login('nopw', 'np'),
  { path: '/v3/auth/disable', as: 'root' },
  kv('range', { key: k('x') }, 'root'),
  kv('range', { key: k('x') }, 'u1'),
  kv('range', { key: k('x') }),
  login('root', 'rootpw'),
  { path: '/v3/auth/disable' },
  { path: '/v3/auth/user/delete', body: { name: 'root' } },
  { path: '/v3/auth/enable' },
  { path: '/v3/auth/user/list' },
]

const targets = [
  ['etcdgw', (tt: Test) => startOurs(tt, { backend: { bcryptCost: 4 } })],
  ['etcdgw remote', (tt: Test) => startOursRemote(tt, COST)],
] as const

for (const [name, start] of targets) {
  t.test(`auth: etcd vs ${name}`, async (t) => {
    const [etcd, ours] = await Promise.all([startRealEtcd(t, COST), start(t)])
    const want = new AuthSession(etcd.url)
    const got = new AuthSession(ours.url)
    for (const [part, steps] of [['setup', setup], ['permission matrix', matrix]] as const) {
      t.strictSame(await got.run(steps), await want.run(steps), part)
    }
    const watches: Array<[string | undefined, Record<string, unknown>]> = [
      ['u1', { key: k('r/1') }],
      ['u1', { key: k('r/'), range_end: k('r0') }],
      ['u1', { key: k('r/'), range_end: k('r1') }],
      ['u1', { key: k('w/b') }],
      [undefined, { key: k('x') }],
      ['root', { key: 'AA==', range_end: 'AA==' }],
    ]
    for (const [as, create] of watches) {
      t.equal(await got.watchCreate(as, create), await want.watchCreate(as, create), `watch ${JSON.stringify(create)} as ${as}`)
    }
    // etcd 3.4 checks a watch of every key from x on as a watch of x alone; etcdgw's own store checks the range
    if (name === 'etcdgw') t.match(await got.watchCreate('u1', { key: k('x'), range_end: 'AA==' }), /"canceled":true,"cancel_reason":"rpc error: code = PermissionDenied/)
    t.strictSame(await got.run(changes), await want.run(changes), 'changes take effect at once')
  })
}
