import type { ConformanceCase } from '../case.js'
import { b64, chained, cmp, opDel, opPut, opRange, opTxn, prefixEnd, put, range, rangeAll, seed, step, txn } from './requests.js'

const RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const

// Against seed key `a` (create 2, mod 7, version 2, value "11", no lease): each operand sits at the
// stored value so EQUAL succeeds and the others split around it.
const TARGET_OPERANDS: Record<string, Record<string, unknown>> = {
  VERSION: { version: 2 },
  CREATE: { create_revision: 2 },
  MOD: { mod_revision: 7 },
  VALUE: { value: b64('11') },
  LEASE: { lease: 0 },
}
const LOWER_OPERANDS: Record<string, Record<string, unknown>> = {
  VERSION: { version: 1 },
  CREATE: { create_revision: 1 },
  MOD: { mod_revision: 6 },
  VALUE: { value: b64('10') },
  LEASE: { lease: -1 },
}

const HIGHER_OPERANDS: Record<string, Record<string, unknown>> = {
  VERSION: { version: 3 },
  CREATE: { create_revision: 3 },
  MOD: { mod_revision: 8 },
  VALUE: { value: b64('110') },
  LEASE: { lease: 1 },
}

const branches = {
  success: [opRange('a'), opPut('won', 'yes')],
  failure: [opRange('b'), opPut('lost', 'yes')],
}

const compareCases: ConformanceCase[] = Object.keys(TARGET_OPERANDS).flatMap((target) =>
  RESULTS.flatMap((result) =>
    chained(`txn/compare ${target} ${result}`, [
      [`${target} ${result} at the stored value`, txn({ compare: [cmp('a', target, result, TARGET_OPERANDS[target])], ...branches })],
      [`${target} ${result} below the stored value`, txn({ compare: [cmp('a', target, result, LOWER_OPERANDS[target])], ...branches })],
      [`${target} ${result} above the stored value`, txn({ compare: [cmp('a', target, result, HIGHER_OPERANDS[target])], ...branches })],
    ]),
  ),
)

const missingKeyCases: ConformanceCase[] = chained(
  'txn/compare on a missing key',
  Object.keys(TARGET_OPERANDS).map((target) => [
    `${target} on a missing key`,
    txn({ compare: [cmp('nope', target, 'EQUAL', LOWER_OPERANDS[target])], ...branches }),
  ]),
)

const manyPuts = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => opPut(`${prefix}${i}`, 'v'))
const manyCompares = (n: number) => Array.from({ length: n }, () => cmp('a', 'VERSION', 'GREATER', { version: 0 }))

export const txnCases: ConformanceCase[] = [
  { name: 'txn/empty request', steps: [...seed, step('/v3/kv/txn', '{}')] },
  { name: 'txn/empty request on an empty store', steps: [step('/v3/kv/txn', '{}')] },
  ...compareCases,
  ...missingKeyCases,
  { name: 'txn/compare defaults mean key absent', steps: [...seed, txn({ compare: [{ key: b64('nope') }], ...branches })] },
  { name: 'txn/compare defaults on a present key', steps: [...seed, txn({ compare: [{ key: b64('a') }], ...branches })] },
  // Both `version` and `value` in one compare is not comparable: they share a oneof and etcd 3.4's
  // gateway keeps a random one of the two (Go map order), measured 12:8 over 20 identical requests.
  {
    name: 'txn/compare reads only the target field',
    steps: [...seed, txn({ compare: [cmp('a', 'VALUE', 'NOT_EQUAL', { version: 2 })], ...branches })],
  },
  {
    name: 'txn/compare with a value operand but target VERSION',
    steps: [...seed, txn({ compare: [cmp('a', 'VERSION', 'EQUAL', { value: b64('11') })], ...branches })],
  },
  {
    name: 'txn/compare enums as integers',
    steps: [...seed, txn({ compare: [{ key: b64('a'), target: 1, result: 0, create_revision: 2 }], ...branches })],
  },
  {
    name: 'txn/compare over a range, all match',
    steps: [...seed, txn({ compare: [cmp('a', 'CREATE', 'LESS', { create_revision: 5, range_end: prefixEnd('a') })], ...branches })],
  },
  {
    name: 'txn/compare over a range, one does not match',
    steps: [...seed, txn({ compare: [cmp('a', 'VERSION', 'EQUAL', { version: 1, range_end: prefixEnd('a') })], ...branches })],
  },
  {
    name: 'txn/compare over an empty range',
    steps: [...seed, txn({ compare: [cmp('x', 'VERSION', 'EQUAL', { version: 5, range_end: b64('y') })], ...branches })],
  },
  {
    name: 'txn/compare over the whole keyspace',
    steps: [...seed, txn({ compare: [cmp('\0', 'MOD', 'GREATER', { mod_revision: 1, range_end: 'AA==' })], ...branches })],
  },
  {
    name: 'txn/several compares must all hold',
    steps: [
      ...seed,
      txn({ compare: [cmp('a', 'VERSION', 'EQUAL', { version: 2 }), cmp('b', 'VALUE', 'EQUAL', { value: b64('x') })], ...branches }),
    ],
  },
  {
    name: 'txn/failure branch result shapes',
    steps: [...seed, txn({ compare: [cmp('a', 'VERSION', 'EQUAL', { version: 9 })], failure: [opRange('a'), opPut('x', 'y', { prev_kv: true }), opDel('b', { prev_kv: true })] })],
  },
  {
    name: 'txn/sub-response shapes',
    steps: [
      ...seed,
      txn({
        success: [
          opRange('a', { range_end: prefixEnd('a'), limit: 1 }),
          opRange('zz'),
          opPut('a', 'new', { prev_kv: true }),
          opPut('fresh', 'v', { prev_kv: true }),
          opDel('b', { prev_kv: true }),
          opDel('nothing'),
          opRange('c', { count_only: true }),
        ],
      }),
    ],
  },
  { name: 'txn/all writes share one revision', steps: [...seed, txn({ success: [opPut('x', '1'), opPut('y', '2'), opDel('a')] }), rangeAll()] },
  {
    name: 'txn/read your writes',
    steps: [...seed, txn({ success: [opPut('x', '1'), opRange('x'), opDel('a'), opRange('a'), opPut('b', 'new'), opRange('b')] })],
  },
  {
    name: 'txn/read-only txn does not bump the revision',
    steps: [...seed, txn({ success: [opRange('a'), opRange('b')] }), put('z', 'z')],
  },
  {
    name: 'txn/range inside txn at a past revision',
    steps: [...seed, txn({ success: [opRange('a', { revision: 3 }), opRange('\0', { range_end: 'AA==', revision: 5, count_only: true })] })],
  },
  { name: 'txn/range inside txn at a future revision', steps: [...seed, txn({ success: [opRange('a', { revision: 100 })] })] },
  {
    name: 'txn/nested txn',
    steps: [
      ...seed,
      txn({
        success: [
          opPut('outer', '1'),
          opTxn({ compare: [cmp('a', 'VALUE', 'EQUAL', { value: b64('11') })], success: [opPut('inner', '2'), opRange('outer')], failure: [opPut('never', '0')] }),
        ],
      }),
      rangeAll(),
    ],
  },
  {
    name: 'txn/nested txn taking its failure branch',
    steps: [...seed, txn({ success: [opTxn({ compare: [cmp('a', 'VERSION', 'EQUAL', { version: 7 })], failure: [opDel('b', { prev_kv: true })] })] })],
  },
  { name: 'txn/empty nested txn', steps: [...seed, txn({ success: [opTxn({})] })] },
  { name: 'txn/doubly nested txn', steps: [...seed, txn({ success: [opTxn({ success: [opTxn({ success: [opPut('deep', 'x')] })] })] })] },
  { name: 'txn/duplicate put keys', steps: [...seed, txn({ success: [opPut('x', '1'), opPut('x', '2')] })] },
  { name: 'txn/put and delete of the same key', steps: [...seed, txn({ success: [opPut('a', '1'), opDel('a')] })] },
  { name: 'txn/delete then put of the same key', steps: [...seed, txn({ success: [opDel('a'), opPut('a', '1')] })] },
  { name: 'txn/two deletes of the same key', steps: [...seed, txn({ success: [opDel('a'), opDel('a')] })] },
  {
    name: 'txn/overlapping delete ranges',
    steps: [...seed, txn({ success: [opDel('a', { range_end: b64('b') }), opDel('ab', { range_end: b64('c') })] })],
  },
  {
    name: 'txn/put inside a delete range',
    steps: [...seed, txn({ success: [opDel('a', { range_end: b64('c') }), opPut('b', 'x')] })],
  },
  {
    name: 'txn/put of a key after a deleted range',
    steps: [...seed, txn({ success: [opDel('a', { range_end: b64('b') }), opPut('b', 'x')] }), rangeAll()],
  },
  { name: 'txn/duplicate put through a nested txn', steps: [...seed, txn({ success: [opPut('x', '1'), opTxn({ success: [opPut('x', '2')] })] })] },
  {
    name: 'txn/duplicate put in both nested branches is fine',
    steps: [...seed, txn({ success: [opTxn({ success: [opPut('x', '1')], failure: [opPut('x', '2')] })] })],
  },
  {
    name: 'txn/nested delete over an outer put',
    steps: [...seed, txn({ success: [opPut('ab', '1'), opTxn({ success: [opDel('a', { range_end: b64('b') })] })] })],
  },
  { name: 'txn/same key in success and failure', steps: [...seed, txn({ success: [opPut('x', '1')], failure: [opPut('x', '2')] }), range('x')] },
  { name: 'txn/two ranges of the same key', steps: [...seed, txn({ success: [opRange('a'), opRange('a'), opPut('a', 'z')] })] },
  { name: 'txn/128 ops', steps: [txn({ success: manyPuts(128) }), rangeAll({ count_only: true })] },
  { name: 'txn/129 ops', steps: [txn({ success: manyPuts(129) })] },
  { name: 'txn/129 ops in the failure branch', steps: [txn({ failure: manyPuts(129) })] },
  { name: 'txn/128 compares', steps: [...seed, txn({ compare: manyCompares(128), success: [opPut('x', '1')] })] },
  { name: 'txn/129 compares', steps: [...seed, txn({ compare: manyCompares(129), success: [opPut('x', '1')] })] },
  { name: 'txn/nested 128 ops each', steps: [txn({ success: [opTxn({ success: manyPuts(100, 'i') }), ...manyPuts(27, 'o')] })] },
  { name: 'txn/empty RequestOp', steps: [...seed, step('/v3/kv/txn', '{"success":[{}]}')] },
  // A null element (`"success":[null]`, `"compare":[null]`) is left out: etcd 3.4's gateway panics
  // on it and the connection closes without any response.
  { name: 'txn/RequestOp with a null request', steps: [...seed, step('/v3/kv/txn', '{"success":[{"request_put":null}]}')] },
  { name: 'txn/RequestOp with a null nested txn', steps: [...seed, step('/v3/kv/txn', '{"success":[{"request_txn":null}]}')] },
  { name: 'txn/empty RequestOp in the branch not taken', steps: [...seed, step('/v3/kv/txn', `{"compare":[{"key":"${b64('a')}"}],"success":[{}]}`)] },
  { name: 'txn/put with an unknown lease', steps: [...seed, txn({ success: [opPut('x', '1', { lease: 99 })] })] },
  { name: 'txn/put with ignore_value on a missing key', steps: [...seed, txn({ success: [opPut('nope', '', { ignore_value: true })] })] },
  {
    name: 'txn/put with ignore_value on a key put earlier in the txn',
    steps: [txn({ success: [opPut('x', '1'), opTxn({ success: [opPut('y', '', { ignore_value: true })] })] })],
  },
  { name: 'txn/put with ignore_lease and a lease', steps: [...seed, txn({ success: [opPut('a', '1', { ignore_lease: true, lease: 3 })] })] },
  { name: 'txn/put with an empty key', steps: [...seed, step('/v3/kv/txn', '{"success":[{"request_put":{"value":"eA=="}}]}')] },
  { name: 'txn/range with an empty key', steps: [...seed, step('/v3/kv/txn', '{"success":[{"request_range":{}}]}')] },
  { name: 'txn/compare with an empty key', steps: [...seed, step('/v3/kv/txn', '{"compare":[{"target":"VERSION"}]}')] },
  { name: 'txn/failed txn writes nothing', steps: [...seed, txn({ success: [opPut('x', '1'), opPut('nope', '', { ignore_value: true })] }), range('x')] },
  { name: 'txn/delete range with prev_kv', steps: [...seed, txn({ success: [opDel('a', { range_end: 'AA==', prev_kv: true })] }), range('a', { revision: 9, count_only: true })] },
]
