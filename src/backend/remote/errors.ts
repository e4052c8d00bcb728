import { status, type ServiceError } from '@grpc/grpc-js'
import { EtcdError, Errors, etcdErrorOf, relayedEtcdError, type FixedError, type GrpcCode } from '../../errors.js'
import { STREAM_REFUSED } from './unary-session.js'

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === 'number' && 'details' in err
}

/** etcd sends its errors as a gRPC code and a text only: the text says which error it is, as in etcd's own client (rpctypes.Error). */
const registeredByText = new Map<string, FixedError>(
  Object.values(Errors).flatMap((e) => (typeof e.message === 'string' ? [[e.message, e as FixedError]] : [])),
)

/** etcd's own errors keep their code and text ("etcdserver: key is not provided"); transport failures get grpc-go's words. */
export function toEtcdError(err: unknown): EtcdError {
  if (err instanceof EtcdError || !isServiceError(err)) return etcdErrorOf(err)
  if (isDeadline(err)) return Errors.timeout()
  if (err.code === status.CANCELLED) return Errors.clientClosing()
  if (isTransportFailure(err) || notSent(err)) return Errors.transportClosing()
  const registered = registeredByText.get(err.details)
  if (registered?.grpcCode === (err.code as number)) return registered()
  return relayedEtcdError(err.code as number as GrpcCode, err.details)
}

/**
 * Our deadline passed: grpc-js noticed, or etcd did first (it sees the propagated deadline and ends
 * the call with code 2 "context deadline exceeded").
 */
export function isDeadline(err: ServiceError): boolean {
  return err.code === status.DEADLINE_EXCEEDED || (err.code === status.UNKNOWN && err.details === 'context deadline exceeded')
}

/** The member could not be reached, the connection broke or the call was cut off: grpc-js speaks, not etcd. */
export function isTransportFailure(err: ServiceError): boolean {
  if (notSent(err)) return false
  return (err.code === status.UNAVAILABLE && !err.details.startsWith('etcdserver:')) || endedWithoutStatus(err)
}

/**
 * The call was still waiting for a connection when etcdgw closed it to replace it (new TLS files, see
 * Member.replaceTls), or the server refused its stream unprocessed: it was never applied, and the
 * member is not at fault.
 */
function notSent(err: ServiceError): boolean {
  return err.code === status.UNAVAILABLE && (err.details === 'Channel closed before call started' || err.details === STREAM_REFUSED)
}

/**
 * The call's HTTP/2 stream ended without a gRPC status: etcd with TLS stops its gRPC server abruptly when
 * the member shuts down (grpc.Server.Stop, embed/etcd.go stopServers), and grpc-js then reports the
 * HTTP status or the RST_STREAM code instead of an etcd error.
 */
function endedWithoutStatus(err: ServiceError): boolean {
  return /^(Received HTTP status code \d+|Received RST_STREAM with code \d+|No status information received)/.test(err.details)
}

/** etcd's answer under the `hasleader` metadata when the member has no leader: rejected before any work. */
export function isNoLeader(err: ServiceError): boolean {
  return err.code === status.UNAVAILABLE && err.details === Errors.noLeader.message
}

/**
 * The request provably never reached an etcd server that could apply it, so even a write may be sent
 * again: no connection could be picked, its connection was replaced or its stream closed or refused before it
 * was processed, etcd refused it up front for want of a leader, or raft dropped the proposal before appending
 * it to the log (a leader handing over its leadership drops every proposal meanwhile).
 */
export function neverReachedServer(err: ServiceError): boolean {
  return (
    isNoLeader(err) ||
    notSent(err) ||
    (err.code === status.UNAVAILABLE && err.details.startsWith('No connection established')) ||
    (err.code === status.UNKNOWN && err.details === Errors.proposalDropped.message)
  )
}

/**
 * A read may be repeated on another member after any unavailability: a broken connection, a call cut off
 * by a member shutting down, no leader, `leader changed`, or `request timed out`.
 */
export function retryableRead(err: ServiceError): boolean {
  return err.code === status.UNAVAILABLE || isTransportFailure(err)
}
