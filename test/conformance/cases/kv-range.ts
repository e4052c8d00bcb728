import type { ConformanceCase } from '../case.js'
import { b64, compact, prefixEnd, put, range, rangeAll, seed, step } from './requests.js'

const SORT_ORDERS = ['NONE', 'ASCEND', 'DESCEND'] as const
const SORT_TARGETS = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const

// Values chosen so that every sort target orders the keys differently.
const sortSeed = [put('k2', 'v1'), put('k1', 'v3'), put('k3', 'v2'), put('k1', 'v0'), put('k2', 'v9'), put('k2', 'v4')]

const sortCases: ConformanceCase[] = SORT_ORDERS.flatMap((order) =>
  SORT_TARGETS.map((target) => ({
    name: `range/sort ${order} by ${target}`,
    steps: [...sortSeed, range('k', { range_end: prefixEnd('k'), sort_order: order, sort_target: target })],
  })),
)

export const rangeCases: ConformanceCase[] = [
  { name: 'range/empty store', steps: [range('a')] },
  { name: 'range/single key hit', steps: [...seed, range('a')] },
  { name: 'range/single key miss', steps: [...seed, range('zz')] },
  { name: 'range/key recreated after delete', steps: [...seed, range('c')] },
  { name: 'range/prefix via range_end', steps: [...seed, range('a', { range_end: prefixEnd('a') })] },
  { name: 'range/half-open interval', steps: [...seed, range('ab', { range_end: b64('b') })] },
  { name: 'range/range_end AA== means all keys >= key', steps: [...seed, range('ab', { range_end: 'AA==' })] },
  { name: 'range/whole keyspace', steps: [...seed, rangeAll()] },
  { name: 'range/range_end equal to key', steps: [...seed, range('a', { range_end: b64('a') })] },
  { name: 'range/range_end below key', steps: [...seed, range('b', { range_end: b64('a') })] },
  { name: 'range/empty key', steps: [...seed, step('/v3/kv/range', '{"key":""}')] },
  { name: 'range/no key at all', steps: [...seed, step('/v3/kv/range', '{}')] },
  { name: 'range/empty key with range_end', steps: [...seed, step('/v3/kv/range', `{"key":"","range_end":"${b64('b')}"}`)] },
  { name: 'range/limit 1 sets more', steps: [...seed, rangeAll({ limit: 1 })] },
  { name: 'range/limit 2 on prefix', steps: [...seed, range('a', { range_end: prefixEnd('a'), limit: 2 })] },
  { name: 'range/limit equal to count', steps: [...seed, rangeAll({ limit: 5 })] },
  { name: 'range/limit above count', steps: [...seed, rangeAll({ limit: 50 })] },
  { name: 'range/limit 0 is no limit', steps: [...seed, rangeAll({ limit: 0 })] },
  { name: 'range/negative limit is no limit', steps: [...seed, rangeAll({ limit: -1 })] },
  { name: 'range/keys_only', steps: [...seed, rangeAll({ keys_only: true })] },
  { name: 'range/count_only', steps: [...seed, rangeAll({ count_only: true })] },
  { name: 'range/count_only on a miss', steps: [...seed, range('zz', { count_only: true })] },
  { name: 'range/count_only with limit', steps: [...seed, rangeAll({ count_only: true, limit: 1 })] },
  { name: 'range/keys_only and count_only', steps: [...seed, rangeAll({ keys_only: true, count_only: true })] },
  { name: 'range/keys_only with limit', steps: [...seed, rangeAll({ keys_only: true, limit: 2 })] },
  ...sortCases,
  {
    name: 'range/sort DESCEND by KEY with limit',
    steps: [...seed, rangeAll({ sort_order: 'DESCEND', sort_target: 'KEY', limit: 2 })],
  },
  {
    name: 'range/sort DESCEND by MOD with limit',
    steps: [...seed, rangeAll({ sort_order: 'DESCEND', sort_target: 'MOD', limit: 3 })],
  },
  {
    name: 'range/sort ASCEND by VALUE with keys_only',
    steps: [...sortSeed, rangeAll({ sort_order: 'ASCEND', sort_target: 'VALUE', keys_only: true })],
  },
  { name: 'range/sort target without order', steps: [...sortSeed, rangeAll({ sort_target: 'MOD' })] },
  { name: 'range/min_mod_revision', steps: [...seed, rangeAll({ min_mod_revision: 5 })] },
  { name: 'range/max_mod_revision', steps: [...seed, rangeAll({ max_mod_revision: 4 })] },
  { name: 'range/min_create_revision', steps: [...seed, rangeAll({ min_create_revision: 4 })] },
  { name: 'range/max_create_revision', steps: [...seed, rangeAll({ max_create_revision: 3 })] },
  {
    name: 'range/mod and create revision window',
    steps: [...seed, rangeAll({ min_mod_revision: 3, max_mod_revision: 7, min_create_revision: 3, max_create_revision: 5 })],
  },
  { name: 'range/revision filters with limit', steps: [...seed, rangeAll({ min_mod_revision: 3, limit: 2 })] },
  { name: 'range/revision filters with count_only', steps: [...seed, rangeAll({ min_mod_revision: 6, count_only: true })] },
  { name: 'range/revision filter excluding all', steps: [...seed, rangeAll({ min_mod_revision: 100 })] },
  { name: 'range/past revision 2', steps: [...seed, rangeAll({ revision: 2 })] },
  { name: 'range/past revision 5', steps: [...seed, rangeAll({ revision: 5 })] },
  { name: 'range/past revision where key was deleted', steps: [...seed, range('c', { revision: 8 })] },
  { name: 'range/past revision before the key existed', steps: [...seed, range('b', { revision: 4 })] },
  { name: 'range/revision 1 of a store with writes', steps: [...seed, rangeAll({ revision: 1 })] },
  { name: 'range/revision 1 of an empty store', steps: [rangeAll({ revision: 1 })] },
  { name: 'range/current revision given explicitly', steps: [...seed, rangeAll({ revision: 9 })] },
  { name: 'range/future revision', steps: [...seed, rangeAll({ revision: 10 })] },
  { name: 'range/far future revision', steps: [...seed, rangeAll({ revision: 1000000 })] },
  { name: 'range/negative revision is current', steps: [...seed, rangeAll({ revision: -3 })] },
  { name: 'range/revision 0 is current', steps: [...seed, rangeAll({ revision: 0 })] },
  { name: 'range/past revision with count and limit', steps: [...seed, rangeAll({ revision: 6, limit: 2 })] },
  { name: 'range/past revision with sort', steps: [...seed, rangeAll({ revision: 7, sort_order: 'DESCEND', sort_target: 'VERSION' })] },
  { name: 'range/compacted revision', steps: [...seed, compact(5), rangeAll({ revision: 4 })] },
  { name: 'range/serializable', steps: [...seed, rangeAll({ serializable: true })] },
  { name: 'range/serializable at past revision', steps: [...seed, rangeAll({ serializable: true, revision: 3 })] },
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
