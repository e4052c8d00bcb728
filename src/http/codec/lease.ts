/**
 * etcd's Lease messages on the JSON wire. The proto names are `ID`, `TTL`, `grantedTTL`, `keys` (also
 * their JSON names, so there is one spelling each); IDs keep all 64 bits and print signed, as etcd's.
 */
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../../backend/backend.js'
import type { JsonValue } from '../json.js'
import { base64Codec, type BytesCodec } from './bytes-codec.js'
import { bool, int64, int64Big } from './fields.js'
import { varintFieldSize } from '../../proto-size.js'
import { type Decoded, body } from './request.js'
import { encodeHeader } from './response.js'

export function decodeLeaseGrant(v: JsonValue | undefined): Decoded<LeaseGrantRequest> {
  const o = body(v)
  const request: LeaseGrantRequest = { ttl: int64(o.get('TTL')), id: int64Big(o.get('ID')) }
  return { request, size: varintFieldSize(request.ttl) + varintFieldSize(request.id) }
}

/** LeaseRevokeRequest and LeaseKeepAliveRequest: only an ID. */
export function decodeLeaseId(v: JsonValue | undefined): Decoded<bigint> {
  const id = int64Big(body(v).get('ID'))
  return { request: id, size: varintFieldSize(id) }
}

export function decodeLeaseTimeToLive(v: JsonValue | undefined): Decoded<LeaseTimeToLiveRequest> {
  const o = body(v)
  const request: LeaseTimeToLiveRequest = { id: int64Big(o.get('ID')), keys: bool(o.get('keys')) }
  return { request, size: varintFieldSize(request.id) + (request.keys ? 2 : 0) }
}

/** LeaseLeasesRequest has no fields; the body must still be an object. */
export function decodeLeaseLeases(v: JsonValue | undefined): Decoded<null> {
  body(v)
  return { request: null, size: 0 }
}

const int64Field = (name: string, n: bigint | number) =>
  n === 0 || n === 0n ? '' : `,"${name}":"${typeof n === 'bigint' ? BigInt.asIntN(64, n) : n}"`

export function encodeLeaseGrantResponse(r: LeaseGrantResponse): string {
  return '{"header":' + encodeHeader(r.header) + int64Field('ID', r.id) + int64Field('TTL', r.ttl) + '}'
}

export function encodeLeaseRevokeResponse(r: LeaseRevokeResponse): string {
  return '{"header":' + encodeHeader(r.header) + '}'
}

export function encodeLeaseKeepAliveResponse(r: LeaseKeepAliveResponse): string {
  return '{"header":' + encodeHeader(r.header) + int64Field('ID', r.id) + int64Field('TTL', r.ttl) + '}'
}

export function encodeLeaseTimeToLiveResponse(r: LeaseTimeToLiveResponse, codec: BytesCodec = base64Codec): string {
  let s = '{"header":' + encodeHeader(r.header) + int64Field('ID', r.id) + int64Field('TTL', r.ttl)
  s += int64Field('grantedTTL', r.grantedTtl)
  if (r.keys.length !== 0) s += ',"keys":[' + r.keys.map((k) => codec.write(k)).join(',') + ']'
  return s + '}'
}

export function encodeLeaseLeasesResponse(r: LeaseLeasesResponse): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.leases.length !== 0) s += ',"leases":[' + r.leases.map((id) => `{${int64Field('ID', id).slice(1)}}`).join(',') + ']'
  return s + '}'
}
