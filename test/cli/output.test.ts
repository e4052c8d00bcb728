import t from 'tap'
import { etcdctlJson, layoutRows } from '../../src/cli/output.js'

t.test('etcdctlJson prints the gateway\'s quoted int64 fields as numbers, as etcdctl -w json does', async (t) => {
  const status = { header: { cluster_id: '7049691005148641417', revision: '3' }, version: '3.4.23', dbSize: '45056', errors: ['x'] }
  t.equal(
    etcdctlJson(status),
    '{"header":{"cluster_id":7049691005148641417,"revision":3},"version":"3.4.23","dbSize":45056,"errors":["x"]}',
    'a version text keeps its quotes; 64-bit values keep every digit',
  )
  t.equal(etcdctlJson({ kvs: [{ key: 'Zm9v', version: '1', value: 'YmFy' }], count: '1' }), '{"kvs":[{"key":"Zm9v","version":1,"value":"YmFy"}],"count":1}')
  t.equal(etcdctlJson({ members: [{ ID: '10', name: 'a "b"' }] }), '{"members":[{"ID":10,"name":"a \\"b\\""}]}')
})

t.test('layoutRows: etcdctl\'s simple rows, or its table', async (t) => {
  const cells = [['a', '1'], ['bb', '22']]
  t.equal(layoutRows('simple', ['NAME', 'N'], cells), 'a, 1\nbb, 22\n')
  t.equal(
    layoutRows('table', ['NAME', 'N'], cells),
    '+------+----+\n| NAME | N  |\n+------+----+\n|    a |  1 |\n|   bb | 22 |\n+------+----+\n',
  )
})
