/** JSON ⇄ internal types for etcd's Maintenance and Cluster services (request.ts and response.ts do KV). */
import type {
  AlarmMember,
  AlarmRequest,
  AlarmResponse,
  HashResponse,
  Member,
  MemberAddResponse,
  MemberListResponse,
  SnapshotChunk,
  StatusResponse,
} from '../../backend/backend.js'
import { AlarmType } from '../../backend/backend.js'
import type { JsonValue } from '../json.js'
import { goJsonString } from '../go-text.js'
import { bool, enumValue, field, repeated, string, uint64Big } from './fields.js'
import { bytesFieldSize, varintFieldSize } from '../../proto-size.js'
import { body, type Decoded } from './request.js'
import { encodeHeader } from './response.js'

const alarmActions = new Map([['GET', 0], ['ACTIVATE', 1], ['DEACTIVATE', 2]])
const alarmTypes = new Map([['NONE', 0], ['NOSPACE', 1], ['CORRUPT', 2]])

/** A request without fields: anything in the body is ignored, but it must still be a JSON object. */
export function decodeEmpty(v: JsonValue | undefined): Decoded<Record<string, never>> {
  body(v)
  return { request: {}, size: 0 }
}

export function decodeAlarm(v: JsonValue | undefined): Decoded<AlarmRequest> {
  const o = body(v)
  const request: AlarmRequest = {
    action: enumValue(o.get('action'), 'etcdserverpb.AlarmRequest_AlarmAction', alarmActions),
    memberId: uint64Big(o.get('memberID')),
    alarm: enumValue(o.get('alarm'), 'etcdserverpb.AlarmType', alarmTypes),
  }
  const size = varintFieldSize(request.action) + varintFieldSize(request.memberId) + varintFieldSize(request.alarm)
  return { request, size }
}

export function decodeMoveLeader(v: JsonValue | undefined): Decoded<bigint> {
  const id = uint64Big(body(v).get('targetID'))
  return { request: id, size: varintFieldSize(id) }
}

function urls(v: JsonValue | undefined): string[] {
  return repeated(v).map(string)
}

const urlsSize = (list: string[]) => list.reduce((n, u) => n + bytesFieldSize(Buffer.byteLength(u)), 0)

export interface MemberChange {
  id: bigint
  peerUrls: string[]
  isLearner: boolean
}

export function decodeMemberAdd(v: JsonValue | undefined): Decoded<MemberChange> {
  const o = body(v)
  const request = { id: 0n, peerUrls: urls(o.get('peerURLs')), isLearner: bool(o.get('isLearner')) }
  return { request, size: urlsSize(request.peerUrls) + (request.isLearner ? 2 : 0) }
}

/** Remove, update and promote: an ID, and for update the new peer URLs. */
export function decodeMemberId(v: JsonValue | undefined): Decoded<MemberChange> {
  const o = body(v)
  const request = { id: uint64Big(o.get('ID')), peerUrls: urls(field(o, 'peerURLs', 'peerURLs')), isLearner: false }
  return { request, size: varintFieldSize(request.id) + urlsSize(request.peerUrls) }
}

const u64 = (n: bigint) => BigInt.asUintN(64, n).toString()
const strings = (list: string[]) => '[' + list.map(goJsonString).join(',') + ']'

function alarmMember(a: AlarmMember): string {
  let s = ''
  if (a.memberId !== 0n) s = `"memberID":"${u64(a.memberId)}"`
  if (a.alarm !== AlarmType.NONE) s += `${s ? ',' : ''}"alarm":"${AlarmType[a.alarm] ?? a.alarm}"`
  return '{' + s + '}'
}

/** etcd's Alarm, Defragment and MoveLeader responses carry no header. */
export function encodeAlarmResponse(r: AlarmResponse): string {
  return r.alarms.length === 0 ? '{}' : '{"alarms":[' + r.alarms.map(alarmMember).join(',') + ']}'
}

export const encodeNoHeader = () => '{}'

export function encodeStatusResponse(r: StatusResponse): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.version) s += `,"version":${goJsonString(r.version)}`
  if (r.dbSize !== 0) s += `,"dbSize":"${r.dbSize}"`
  if (r.leader !== 0n) s += `,"leader":"${u64(r.leader)}"`
  if (r.raftIndex !== 0) s += `,"raftIndex":"${r.raftIndex}"`
  if (r.raftTerm !== 0) s += `,"raftTerm":"${r.raftTerm}"`
  if (r.raftAppliedIndex !== 0) s += `,"raftAppliedIndex":"${r.raftAppliedIndex}"`
  if (r.errors.length !== 0) s += `,"errors":${strings(r.errors)}`
  if (r.dbSizeInUse !== 0) s += `,"dbSizeInUse":"${r.dbSizeInUse}"`
  if (r.isLearner) s += ',"isLearner":true'
  return s + '}'
}

/** `hash` is a uint32: a JSON number. */
export function encodeHashResponse(r: HashResponse): string {
  return '{"header":' + encodeHeader(r.header) + (r.hash !== 0 ? `,"hash":${r.hash >>> 0}` : '') + '}'
}

/** One snapshot message as the gateway writes it, without the stream's `{"result":…}` wrapper. */
export function encodeSnapshotChunk(c: SnapshotChunk): string {
  let s = ''
  if (c.remainingBytes !== 0) s = `"remaining_bytes":"${c.remainingBytes}"`
  if (c.blob.length !== 0) s += `${s ? ',' : ''}"blob":"${c.blob.toString('base64')}"`
  return '{' + s + '}'
}

function member(m: Member): string {
  let s = ''
  if (m.id !== 0n) s = `"ID":"${u64(m.id)}"`
  if (m.name) s += `${s ? ',' : ''}"name":${goJsonString(m.name)}`
  if (m.peerUrls.length !== 0) s += `${s ? ',' : ''}"peerURLs":${strings(m.peerUrls)}`
  if (m.clientUrls.length !== 0) s += `${s ? ',' : ''}"clientURLs":${strings(m.clientUrls)}`
  if (m.isLearner) s += `${s ? ',' : ''}"isLearner":true`
  return '{' + s + '}'
}

export function encodeMemberListResponse(r: MemberListResponse): string {
  let s = '{"header":' + encodeHeader(r.header)
  if (r.members.length !== 0) s += ',"members":[' + r.members.map(member).join(',') + ']'
  return s + '}'
}

export function encodeMemberAddResponse(r: MemberAddResponse): string {
  let s = '{"header":' + encodeHeader(r.header) + ',"member":' + member(r.member)
  if (r.members.length !== 0) s += ',"members":[' + r.members.map(member).join(',') + ']'
  return s + '}'
}
