import type { ConformanceCase } from '../case.js'
import { b64, chained, compact, prefixEnd, put, range, rangeAll, seed, step } from './requests.js'

const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const
const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const

// Values chosen so that every sort target orders the keys differently.
const sortSeed = [put('k2', 'v1'), put('k1', 'v3'), put('k3', 'v2'), put('k1', 'v0'), put('k2', 'v9'), put('k2', 'v4')]

const sortCases: ConformanceCase[] = SORT_ORDERS.flatMap((order) =>
  chained(
    `range/sort ${order}`,
    SORT_TARGETS.map((target) => [
      `sort ${order} by ${target}`,
      range('k', { range_end: prefixEnd('k'), sort_order: order, sort_target: target }),
    ]),
    sortSeed,
  ),
)

export const rangeCases: ConformanceCase[] = [
  { name: 'range/empty store', steps: [range('a')] },
  ...chained('range/keys and intervals', [
    ['single key hit', range('a')],
    ['single key miss', range('zz')],
    ['key recreated after delete', range('c')],
    ['prefix via range_end', range('a', { range_end: prefixEnd('a') })],
    ['half-open interval', range('ab', { range_end: b64('b') })],
    ['range_end AA== means all keys >= key', range('ab', { range_end: 'AA==' })],
    ['whole keyspace', rangeAll()],
    ['range_end equal to key', range('a', { range_end: b64('a') })],
    ['range_end below key', range('b', { range_end: b64('a') })],
    ['empty key', step('/v3/kv/range', '{"key":""}')],
    ['no key at all', step('/v3/kv/range', '{}')],
    ['empty key with range_end', step('/v3/kv/range', `{"key":"","range_end":"${b64('b')}"}`)],
  ]),
  ...chained('range/limit, count_only and keys_only', [
    ['limit 1 sets more', rangeAll({ limit: 1 })],
    ['limit 2 on prefix', range('a', { range_end: prefixEnd('a'), limit: 2 })],
    ['limit equal to count', rangeAll({ limit: 5 })],
    ['limit above count', rangeAll({ limit: 50 })],
    ['limit 0 is no limit', rangeAll({ limit: 0 })],
    ['negative limit is no limit', rangeAll({ limit: -1 })],
    ['keys_only', rangeAll({ keys_only: true })],
    ['count_only', rangeAll({ count_only: true })],
    ['count_only on a miss', range('zz', { count_only: true })],
    ['count_only with limit', rangeAll({ count_only: true, limit: 1 })],
    ['keys_only and count_only', rangeAll({ keys_only: true, count_only: true })],
    ['keys_only with limit', rangeAll({ keys_only: true, limit: 2 })],
  ]),
  ...sortCases,
  ...chained('range/sort with limit', [
    ['sort DESCEND by KEY with limit', rangeAll({ sort_order: 'DESCEND', sort_target: 'KEY', limit: 2 })],
    ['sort DESCEND by MOD with limit', rangeAll({ sort_order: 'DESCEND', sort_target: 'MOD', limit: 3 })],
  ]),
  ...chained(
    'range/sort details',
    [
      ['sort ASCEND by VALUE with keys_only', rangeAll({ sort_order: 'ASCEND', sort_target: 'VALUE', keys_only: true })],
      ['sort target without order', rangeAll({ sort_target: 'MOD' })],
    ],
    sortSeed,
  ),
  ...chained('range/mod and create revision filters', [
    ['min_mod_revision', rangeAll({ min_mod_revision: 5 })],
    ['max_mod_revision', rangeAll({ max_mod_revision: 4 })],
    ['min_create_revision', rangeAll({ min_create_revision: 4 })],
    ['max_create_revision', rangeAll({ max_create_revision: 3 })],
    ['mod and create revision window', rangeAll({ min_mod_revision: 3, max_mod_revision: 7, min_create_revision: 3, max_create_revision: 5 })],
    ['revision filters with limit', rangeAll({ min_mod_revision: 3, limit: 2 })],
    ['revision filters with count_only', rangeAll({ min_mod_revision: 6, count_only: true })],
    ['revision filter excluding all', rangeAll({ min_mod_revision: 100 })],
  ]),
  ...chained('range/past, current and future revisions', [
    ['past revision 2', rangeAll({ revision: 2 })],
    ['past revision 5', rangeAll({ revision: 5 })],
    ['past revision where key was deleted', range('c', { revision: 8 })],
    ['past revision before the key existed', range('b', { revision: 4 })],
    ['revision 1 of a store with writes', rangeAll({ revision: 1 })],
    ['current revision given explicitly', rangeAll({ revision: 9 })],
    ['future revision', rangeAll({ revision: 10 })],
    ['far future revision', rangeAll({ revision: 1000000 })],
    ['negative revision is current', rangeAll({ revision: -3 })],
    ['revision 0 is current', rangeAll({ revision: 0 })],
    ['past revision with count and limit', rangeAll({ revision: 6, limit: 2 })],
    ['past revision with sort', rangeAll({ revision: 7, sort_order: 'DESCEND', sort_target: 'VERSION' })],
    ['serializable', rangeAll({ serializable: true })],
    ['serializable at past revision', rangeAll({ serializable: true, revision: 3 })],
  ]),
  { name: 'range/revision 1 of an empty store', steps: [rangeAll({ revision: 1 })] },
  { name: 'range/compacted revision', steps: [...seed, compact(5), rangeAll({ revision: 4 })] },
  {
    name: 'range/binary keys order by raw bytes',
    steps: [
      put(Buffer.from([0xff]), 'ff'),
      put(Buffer.from([0x00]), 'zero'),
      put(Buffer.from([0x7f, 0x80]), 'mid'),
      put('A', 'upper'),
      put('a', 'lower'),
      rangeAll(),
      range(Buffer.from([0x01]), { range_end: b64(Buffer.from([0xff])) }),
    ],
  },
]
