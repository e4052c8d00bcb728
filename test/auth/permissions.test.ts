/** etcd's permission arithmetic: single keys, ranges, open ends, and the union of several ranges. */
import t from 'tap'
import { PermissionType } from '../../src/backend/backend.js'
import { RangePermissions } from '../../src/auth/permissions.js'

const b = (s: string) => Buffer.from(s, 'latin1')
const perm = (permType: PermissionType, key: string, rangeEnd = '') => ({ permType, key: b(key), rangeEnd: b(rangeEnd) })

t.test('a key, a range, an open range', async (t) => {
  const p = new RangePermissions([
    perm(PermissionType.READ, 'k'),
    perm(PermissionType.READWRITE, 'a', 'c'),
    perm(PermissionType.WRITE, 'x', '\0'),
  ])
  t.ok(p.permits('read', b('k'), b('')), 'the key')
  t.notOk(p.permits('read', b('k0'), b('')), 'not the key after it')
  t.notOk(p.permits('read', b('k'), b('l')), 'not a range from the key')
  t.notOk(p.permits('write', b('k'), b('')), 'READ does not write')
  t.ok(p.permits('read', b('a'), b('c')) && p.permits('write', b('b'), b('c')), 'inside the range, both ways')
  t.notOk(p.permits('read', b('a'), b('d')), 'not past its end')
  t.notOk(p.permits('read', b('c'), b('')), 'the end is not in it')
  t.ok(p.permits('write', b('x'), b('\0')) && p.permits('write', b('zzz'), b('')), 'an open end reaches every later key')
  t.notOk(p.permits('read', b('x'), b('')), 'WRITE does not read')
  t.notOk(p.permits('write', b('w'), b('\0')), 'not from before its start')
})

t.test('ranges that together cover a request', async (t) => {
  const p = new RangePermissions([perm(PermissionType.READ, 'a', 'c'), perm(PermissionType.READ, 'c', 'e'), perm(PermissionType.READ, 'f', 'g')])
  t.ok(p.permits('read', b('b'), b('d')), 'two adjacent ranges')
  t.notOk(p.permits('read', b('b'), b('f0')), 'a gap between e and f')
  t.ok(p.permits('read', b('f'), b('g')))
})

t.test('what covers nothing', async (t) => {
  const p = new RangePermissions([perm(PermissionType.READWRITE, 'z', 'y'), perm(PermissionType.READWRITE, '', '')])
  t.notOk(p.permits('read', b('z'), b('')), 'an inverted range holds no key')
  t.notOk(p.permits('read', b(''), b('\0')), 'the empty key (an open end in etcd\'s order) is no key at all')
  t.notOk(new RangePermissions([]).permits('read', b('a'), b('')), 'no permissions')
})
