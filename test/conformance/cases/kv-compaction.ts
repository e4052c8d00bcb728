import type { ConformanceCase } from '../case.js'
import { compact, cmp, opRange, range, rangeAll, seed, step, txn } from './requests.js'

export const compactionCases: ConformanceCase[] = [
  { name: 'compaction/to a past revision', steps: [...seed, compact(5), rangeAll()] },
  { name: 'compaction/physical', steps: [...seed, compact(5, { physical: true }), rangeAll()] },
  { name: 'compaction/read at the compact revision', steps: [...seed, compact(5), rangeAll({ revision: 5 })] },
  { name: 'compaction/read below the compact revision', steps: [...seed, compact(5), rangeAll({ revision: 4 })] },
  { name: 'compaction/read above the compact revision', steps: [...seed, compact(5), range('c', { revision: 8 })] },
  { name: 'compaction/twice to the same revision', steps: [...seed, compact(5), compact(5)] },
  { name: 'compaction/to a lower revision', steps: [...seed, compact(6), compact(4)] },
  { name: 'compaction/forward twice', steps: [...seed, compact(3), compact(7), rangeAll({ revision: 7 })] },
  { name: 'compaction/to the current revision', steps: [...seed, compact(9), rangeAll(), rangeAll({ revision: 8 })] },
  { name: 'compaction/to a future revision', steps: [...seed, compact(10)] },
  { name: 'compaction/revision 0', steps: [...seed, compact(0)] },
  { name: 'compaction/revision 1', steps: [...seed, compact(1), compact(1)] },
  { name: 'compaction/negative revision', steps: [...seed, compact(-1)] },
  { name: 'compaction/empty body', steps: [...seed, step('/v3/kv/compaction', '{}')] },
  { name: 'compaction/on an empty store', steps: [compact(1)] },
  { name: 'compaction/revision as a string', steps: [...seed, compact('4'), rangeAll({ revision: '4' })] },
  { name: 'compaction/writes continue after it', steps: [...seed, compact(9, { physical: true }), step('/v3/kv/put', '{"key":"eg==","value":"eg=="}'), rangeAll()] },
  {
    name: 'compaction/keeps the latest version of deleted-then-recreated keys',
    steps: [...seed, compact(8), range('c'), range('c', { revision: 8 })],
  },
  {
    name: 'compaction/txn range below the compact revision',
    steps: [...seed, compact(6), txn({ compare: [cmp('a', 'MOD', 'EQUAL', { mod_revision: 7 })], success: [opRange('a', { revision: 3 })] })],
  },
  {
    name: 'compaction/revision filters after compaction',
    steps: [...seed, compact(8), rangeAll({ min_mod_revision: 2, max_create_revision: 5 })],
  },
]
