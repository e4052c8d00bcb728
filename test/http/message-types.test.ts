import t from 'tap'
import type { AlarmType } from '../../src/backend/backend.js'
import { messageType } from '../../src/http/api/message-types.js'
import { decoders, encoders } from '../../src/http/codec/codecs.js'
import { readFirstValue } from '../../src/http/codec/json.js'

const properties = (name: string) => messageType(name).fields.map((f) => f.property)

t.test('internal property names come from the JSON names, acronyms lower-cased', async (t) => {
  t.same(properties('LeaseTimeToLiveResponse'), ['header', 'id', 'ttl', 'grantedTtl', 'keys'])
  t.same(properties('Member'), ['id', 'name', 'peerUrls', 'clientUrls', 'isLearner'])
  t.same(properties('ResponseHeader'), ['clusterId', 'memberId', 'revision', 'raftTerm'])
  t.same(properties('AlarmRequest'), ['action', 'memberId', 'alarm'])
})

t.test('64-bit IDs are bigints, revisions and counts numbers', async (t) => {
  const bigints = (name: string) => messageType(name).fields.filter((f) => f.bigint).map((f) => f.name)
  t.same(bigints('ResponseHeader'), ['cluster_id', 'member_id'])
  t.same(bigints('KeyValue'), ['lease'])
  t.same(bigints('StatusResponse'), ['leader'])
  t.same(bigints('WatchResponse'), [], 'watch IDs are numbers')
})

t.test("enums carry Go's type name for jsonpb's errors", async (t) => {
  const sortOrder = messageType('RangeRequest').fields.find((f) => f.name === 'sort_order')!
  t.equal(sortOrder.enumType!.goName, 'etcdserverpb.RangeRequest_SortOrder')
  t.equal(messageType('Event').fields[0]!.enumType!.goName, 'mvccpb.Event_EventType')
  t.throws(() => decoders.RangeRequest(readFirstValue('{"sort_order":"UP"}')), {
    message: 'unknown value "UP" for enum etcdserverpb.RangeRequest_SortOrder',
  })
})

t.test('lease, maintenance and cluster messages both ways', async (t) => {
  const body = (s: string) => readFirstValue(s)
  t.same(decoders.LeaseGrantRequest(body('{"TTL":"60","ID":"-1"}')), { request: { ttl: 60, id: -1n }, size: 2 + 11 })
  t.same(decoders.MemberUpdateRequest(body('{"ID":"18446744073709551615","peerURLs":["http://a"]}')).request, {
    id: 18446744073709551615n,
    peerUrls: ['http://a'],
  })
  t.same(decoders.WatchRequest(body('{"cancel_request":{"watch_id":"3"}}')).request, { kind: 'cancel', request: { watchId: 3 } })
  t.same(decoders.WatchRequest(body('{"progress_request":{}}')).request, { kind: 'progress', request: {} })
  t.same(decoders.WatchRequest(body('{"unknown":{}}')).request, { kind: 'none' })
  t.same(decoders.WatchRequest(body('{"create_request":{"filters":["NODELETE",0]}}')).size, 2 + 4, 'packed filters')

  const header = { clusterId: 1n, memberId: -1n, revision: 0, raftTerm: 3 }
  t.equal(
    encoders.LeaseLeasesResponse({ header, leases: [{ id: -5n }, { id: 7n }] }),
    '{"header":{"cluster_id":"1","member_id":"18446744073709551615","raft_term":"3"},"leases":[{"ID":"-5"},{"ID":"7"}]}',
  )
  t.equal(encoders.AlarmResponse({ alarms: [{ memberId: 2n, alarm: 1 }, { memberId: 3n, alarm: 9 as AlarmType }] }), '{"alarms":[{"memberID":"2","alarm":"NOSPACE"},{"memberID":"3","alarm":9}]}')
  t.equal(encoders.HashResponse({ header, hash: -1 }).slice(-18), '"hash":4294967295}')
  t.equal(encoders.SnapshotResponse({ remainingBytes: 0, blob: Buffer.from([0xff]) }), '{"blob":"/w=="}')
  t.equal(encoders.DefragmentResponse({}), '{}')
})
