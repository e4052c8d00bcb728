import { Metadata, status, type ServiceError } from '@grpc/grpc-js'
import t from 'tap'
import { isTransportFailure, neverReachedServer, retryableRead, toEtcdError } from '../../../src/backend/remote/errors.js'
import { STREAM_REFUSED } from '../../../src/backend/remote/unary-session.js'
import { Errors, GrpcCode, relayedEtcdError } from '../../../src/errors.js'

/** A failed call as grpc-js reports it. */
function failed(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata: new Metadata() })
}

// what grpc-js reports for a call a member cut off while shutting down (seen on etcd 3.4 with TLS, under load)
const cutOff = [
  failed(status.UNKNOWN, 'Received HTTP status code 200'),
  failed(status.INTERNAL, 'Received RST_STREAM with code 0 (Call ended without gRPC status)'),
]

t.test('a call cut off by a member shutting down: reads ask again, writes do not', async (t) => {
  for (const err of cutOff) {
    t.ok(retryableRead(err), `read retried after "${err.details}"`)
    t.ok(isTransportFailure(err), `the member counts as down after "${err.details}"`)
    t.notOk(neverReachedServer(err), `write not repeated after "${err.details}": it may have been applied`)
    t.match(toEtcdError(err), { grpcCode: GrpcCode.Unavailable, message: 'transport is closing' }, 'the client sees a broken transport')
  }
})

t.test('raft dropped the proposal: a write is sent again', async (t) => {
  const dropped = failed(status.UNKNOWN, 'raft proposal dropped')
  t.ok(neverReachedServer(dropped), 'never appended to the log, so never applied')
  t.notOk(isTransportFailure(dropped), 'the member is not down')
  t.match(toEtcdError(dropped), { grpcCode: GrpcCode.Unknown, message: 'raft proposal dropped' }, 'etcd\'s text if it still fails')
})

t.test('a call waiting for a connection when a TLS reload replaced it, or refused unprocessed: sent again, the member is not down', async (t) => {
  // grpc-js's channel (streams), the unary session's closed or refused stream
  for (const replaced of [failed(status.UNAVAILABLE, 'Channel closed before call started'), failed(status.UNAVAILABLE, STREAM_REFUSED)]) {
    t.ok(neverReachedServer(replaced), 'a write is sent again')
    t.ok(retryableRead(replaced), 'a read is asked again')
    t.notOk(isTransportFailure(replaced), 'the member is not marked down')
    t.match(toEtcdError(replaced), { grpcCode: GrpcCode.Unavailable, message: 'transport is closing' }, 'the client sees a broken transport if time runs out')
  }
})

t.test('etcd\'s own errors are neither transport failures nor safe to repeat as writes', async (t) => {
  for (const err of [failed(status.UNAVAILABLE, 'etcdserver: request timed out'), failed(status.UNAVAILABLE, 'etcdserver: server stopped')]) {
    t.notOk(isTransportFailure(err), err.details)
    t.notOk(neverReachedServer(err), err.details)
  }
  t.ok(retryableRead(failed(status.UNAVAILABLE, 'etcdserver: request timed out')), 'a read that timed out is asked again')
  t.notOk(retryableRead(failed(status.INVALID_ARGUMENT, 'etcdserver: key is not provided')), 'an invalid read is not')
})

t.test('etcd\'s errors become registry entries by etcd\'s text, keeping code and text', async (t) => {
  t.match(toEtcdError(failed(status.INVALID_ARGUMENT, 'etcdserver: key is not provided')), {
    code: Errors.emptyKey.code,
    grpcCode: GrpcCode.InvalidArgument,
    message: 'etcdserver: key is not provided',
  })
  t.match(toEtcdError(failed(status.UNAVAILABLE, 'etcdserver: leader changed')), { code: Errors.leaderChanged.code, grpcCode: GrpcCode.Unavailable })
  t.match(toEtcdError(failed(status.UNKNOWN, 'raft proposal dropped')), { code: Errors.proposalDropped.code })
  const unlisted = toEtcdError(failed(status.FAILED_PRECONDITION, 'etcdserver: cluster ID mismatch'))
  t.match(unlisted, { code: relayedEtcdError.code, grpcCode: GrpcCode.FailedPrecondition, message: 'etcdserver: cluster ID mismatch' }, 'a text the registry lacks passes through')
  const otherCode = toEtcdError(failed(status.INTERNAL, 'etcdserver: key not found'))
  t.match(otherCode, { code: relayedEtcdError.code, grpcCode: GrpcCode.Internal }, 'a known text under another code is not that entry')
  t.match(toEtcdError(new Error('boom')), { code: Errors.unknown.code, grpcCode: GrpcCode.Unknown, message: 'boom' })
})
