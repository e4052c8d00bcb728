/** The watch stream scenarios compared between etcd and etcdgw (see watch-conformance.test.ts). */
import type { Scenario, Step } from '../helpers/scenario.js'
import { b64 } from '../helpers/stream-clients.js'

const create = (key: string, more: Record<string, unknown> = {}) => ({ create_request: { key: b64(key), ...more } })
const put = (key: string, value = 'v', more: Record<string, unknown> = {}): Step => ({
  unary: '/v3/kv/put',
  body: { key: b64(key), value: b64(value), ...more },
})
const del = (key: string, more: Record<string, unknown> = {}): Step => ({
  unary: '/v3/kv/deleterange',
  body: { key: b64(key), ...more },
})

export const scenarios: Scenario[] = [
  {
    name: 'create, put, delete: events with ids 0, 1',
    steps: [
      { send: create('a/x') },
      { expect: 1 },
      { send: create('a/y') },
      { expect: 2 },
      put('a/x', 'one'),
      put('a/y', 'two'),
      del('a/x'),
      { expect: 5 },
    ],
  },
  {
    name: 'several messages in one write, one message over two writes',
    steps: [
      { send: JSON.stringify(create('b/1')) + JSON.stringify(create('b/2')) + '\n' + JSON.stringify(create('b/3')) },
      { expect: 3 },
      { send: '{"create_request":' },
      { send: '{"key":"' + b64('b/4') + '"}}' },
      { expect: 4 },
      put('b/4'),
      { expect: 5 },
    ],
  },
  {
    name: 'client-chosen ids, duplicate id, auto ids go on independently',
    steps: [
      { send: create('c/x', { watch_id: 7 }) },
      { expect: 1 },
      { send: create('c/x', { watch_id: '7' }) },
      { expect: 2 },
      { send: create('c/x') },
      { send: create('c/x') },
      { expect: 4 },
      { send: create('c/x', { watch_id: 1 }) },
      { expect: 5 },
      put('c/x'),
      { expect: 8, unordered: true },
    ],
  },
  {
    name: 'filters (names and numbers) and prev_kv',
    steps: [
      put('d/k', 'old'),
      { send: create('d/k', { filters: ['NOPUT'] }) },
      { send: create('d/k', { filters: [1], prev_kv: true }) },
      { send: create('d/k', { filters: ['NOPUT', 'NODELETE'] }) },
      { send: create('d/k', { prev_kv: true }) },
      { expect: 4 },
      put('d/k', 'new'),
      { expect: 6, unordered: true },
      del('d/k'),
      { expect: 8, unordered: true },
    ],
  },
  {
    name: 'ranges: range_end, prefix, every key from key; txn and delete-range are one message',
    steps: [
      { send: create('e/a', { range_end: b64('e/c') }) },
      { send: create('e/', { range_end: b64('e0') }) },
      { send: { create_request: { key: b64('e/b'), range_end: 'AA==' } } },
      { expect: 3 },
      // e/a: watches 1 and 2; e/b: all three; e/c: 2 and 3; the txn and the delete: one message for each watch
      put('e/a'),
      { expect: 5, unordered: true },
      put('e/b', 'v', { prev_kv: true }),
      put('e/c'),
      { expect: 10, unordered: true },
      {
        unary: '/v3/kv/txn',
        body: { success: [{ request_put: { key: b64('e/a'), value: b64('t') } }, { request_put: { key: b64('e/d'), value: b64('t') } }] },
      },
      { expect: 13, unordered: true },
      del('e/', { range_end: b64('e0'), prev_kv: true }),
      { expect: 16, unordered: true },
    ],
  },
  {
    name: 'start revisions: past replays in one message then goes on live, future waits',
    steps: [
      put('f/k', '1'),
      put('f/k', '2'),
      del('f/k'),
      put('f/k', '3'),
      { send: (c: { rev: number }) => create('f/k', { start_revision: c.rev - 3 }) },
      { expect: 2 },
      { send: (c: { rev: number }) => create('f/k', { start_revision: c.rev + 2, prev_kv: true }) },
      { expect: 3 },
      put('f/k', '4'),
      { expect: 4 },
      put('f/k', '5'),
      { expect: 6, unordered: true },
    ],
  },
  {
    name: 'compacted start revision: created then canceled with compact_revision; the stream stays usable',
    steps: [
      put('g/k', '1'),
      put('g/k', '2'),
      { unary: '/v3/kv/compaction', body: (c: { rev: number }) => ({ revision: c.rev }) },
      { send: (c: { rev: number }) => create('g/k', { start_revision: c.rev - 1 }) },
      { expect: 2 },
      { send: (c: { rev: number }) => create('g/k', { start_revision: c.rev }) },
      { expect: 4 },
      { send: { cancel_request: { watch_id: 0 } } },
      { expect: 5 },
      put('g/k', '3'),
      { expect: 6 },
    ],
  },
  {
    name: 'progress_request with and without watches; cancel; cancel of an unknown id; empty and unknown requests',
    steps: [
      { send: { progress_request: {} } },
      { expect: 1 },
      { send: '{}' },
      { send: '{"nonsense":{"x":1}}' },
      { send: create('h/k') },
      { expect: 2 },
      { send: { cancel_request: { watch_id: 5 } } },
      { send: { progress_request: {} } },
      { expect: 3 },
      { send: { cancel_request: { watch_id: 0 } } },
      { expect: 4 },
      put('h/k'),
      { send: { create_request: {} } },
      { expect: 5 },
      put('h/k'),
    ],
  },
  {
    name: 'an empty range is refused in-band',
    steps: [{ send: create('i/b', { range_end: b64('i/a') }) }, { expect: 1 }],
  },
  {
    name: 'lease expiry: the watcher sees one message of DELETE events',
    steps: [
      { unary: '/v3/lease/grant', body: { TTL: 1, ID: 4711 } },
      put('j/1', 'v', { lease: 4711 }),
      put('j/2', 'v', { lease: '4711' }),
      put('j/3', 'v', { lease: 4711 }),
      { send: create('j/', { range_end: b64('j0'), prev_kv: true }) },
      { expect: 1 },
      { expect: 2, timeoutMs: 6_000 },
      { unary: '/v3/lease/timetolive', body: { ID: 4711 } },
    ],
  },
  {
    name: 'a bad first message: error, nothing else',
    steps: [{ send: '{"create_request":{"key":"%%%"}}' }, { expect: 1 }],
  },
  {
    name: 'a later undecodable message after a good one',
    steps: [{ send: create('k/k') }, { expect: 1 }, { send: '{"create_request":{"key":12}}' }, { sleepMs: 100 }, put('k/k'), { expect: 2 }],
  },
]

export const multiplex: Scenario = {
  name: '100 watches on one stream, 10 on each of 10 keys',
  steps: [
    ...Array.from({ length: 100 }, (_, i): Step => ({ send: create(`m/${i % 10}`, i % 3 === 0 ? { prev_kv: true } : {}) })),
    { expect: 100 },
    ...Array.from({ length: 10 }, (_, i) => put(`m/${i}`)),
    { expect: 200, unordered: true },
    { unary: '/v3/kv/deleterange', body: { key: b64('m/'), range_end: b64('m0') } },
    { expect: 300, unordered: true },
  ],
}

