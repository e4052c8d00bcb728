/**
 * What etcd 3.4 keeps in its bbolt db: the buckets, the revision keys of the `key` bucket, the
 * mvccpb.KeyValue and leasepb.Lease records, and the `meta` bucket's entries.
 */
import protobuf from 'protobufjs'
import type { KeyValue } from '../backend/backend.js'
import { EtcdError, Errors } from '../errors.js'
import type { BoltFile } from './bolt-reader.js'
import { readU64, writeU64 } from '../backend/embedded/u64.js'
import { bytesFieldSize, keyValueSize, type KeyValueShape } from '../proto-size.js'

/** etcd's buckets, as a fresh etcd 3.4 member creates them. */
export const BUCKETS = {
  alarm: 'alarm',
  auth: 'auth',
  authRoles: 'authRoles',
  authUsers: 'authUsers',
  cluster: 'cluster',
  key: 'key',
  lease: 'lease',
  members: 'members',
  membersRemoved: 'members_removed',
  meta: 'meta',
} as const

/** The `meta` bucket's keys (mvcc/kvstore.go and etcdserver's consistent index). */
export const META_KEYS = {
  consistentIndex: 'consistent_index',
  scheduledCompact: 'scheduledCompactRev',
  finishedCompact: 'finishedCompactRev',
} as const

/** A revision key: main u64 BE | '_' | sub u64 BE, and a 't' after it for a tombstone (mvcc/revision.go). */
export const REV_KEY_BYTES = 17
const TOMBSTONE_MARK = 0x74

export interface RevKey {
  main: number
  sub: number
  tombstone: boolean
}

export function encodeRevKey(main: number, sub: number, tombstone = false): Buffer {
  const b = Buffer.allocUnsafe(tombstone ? REV_KEY_BYTES + 1 : REV_KEY_BYTES)
  writeRevKey(b, main, sub)
  return b
}

/** Bytes of a revision's entry in the `key` bucket: its key (a tombstone's a byte longer) and its record. */
export function revisionEntrySizes(kv: KeyValueShape, tombstone: boolean): { keyBytes: number; valueBytes: number } {
  // etcd keeps only the key in a tombstone's record: its revision is in the entry's key
  return tombstone ? { keyBytes: REV_KEY_BYTES + 1, valueBytes: bytesFieldSize(kv.key.length) } : { keyBytes: REV_KEY_BYTES, valueBytes: keyValueSize(kv) }
}

/** Writes a revision key into `b`, which is one byte longer for a tombstone's. */
export function writeRevKey(b: Buffer, main: number, sub: number): void {
  writeU64(b, 0, main)
  b[8] = 0x5f
  writeU64(b, 9, sub)
  if (b.length > REV_KEY_BYTES) b[REV_KEY_BYTES] = TOMBSTONE_MARK
}

export function decodeRevKey(b: Buffer): RevKey {
  const tombstone = b.length === REV_KEY_BYTES + 1 && b[REV_KEY_BYTES] === TOMBSTONE_MARK
  if ((b.length !== REV_KEY_BYTES && !tombstone) || b[8] !== 0x5f) throw Errors.snapshotInvalid(`bad revision key ${b.toString('hex')}`)
  return { main: safeU64(b, 0, 'main revision'), sub: safeU64(b, 9, 'sub revision'), tombstone }
}

/** The compaction etcd had scheduled and the one it had finished (0: none), from the `meta` bucket. */
export function readCompaction(db: BoltFile): { scheduled: number; finished: number } {
  const found = { scheduled: 0, finished: 0 }
  for (const { key, value } of db.entries(BUCKETS.meta)) {
    const name = key.toString('latin1')
    const which = name === META_KEYS.scheduledCompact ? 'scheduled' : name === META_KEYS.finishedCompact ? 'finished' : undefined
    if (!which) continue
    // a revision key with sub 0
    if (value.length !== REV_KEY_BYTES) throw Errors.snapshotInvalid(`${db.path}: meta ${name} is ${value.length} bytes, not a revision`)
    found[which] = decodeRevKey(value).main
  }
  return found
}

export function encodeU64(n: number | bigint): Buffer {
  const b = Buffer.allocUnsafe(8)
  b.writeBigUInt64BE(BigInt(n))
  return b
}

/** The u64 at `b[at]`, which must be a safe integer (read without a bigint: a restore reads two per row). */
function safeU64(b: Buffer, at: number, what: string): number {
  const n = readU64(b, at)
  // a u64 of 2^53 or more reads as at least 2^53
  if (n > Number.MAX_SAFE_INTEGER) throw Errors.snapshotInvalid(`${what} ${b.readBigUInt64BE(at)} is out of range`)
  return n
}

const toLongBits = (n: bigint) => {
  const u = BigInt.asUintN(64, n)
  return { low: Number(u & 0xffff_ffffn) | 0, high: Number(u >> 32n) | 0, unsigned: false }
}
const fromLong = (l: { low: number; high: number }) => BigInt.asIntN(64, (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0))

/**
 * mvccpb.KeyValue: key 1, create_revision 2, mod_revision 3, version 4, value 5, lease 6; zero fields
 * left out. Written by hand into one exact-size buffer: a snapshot encodes every revision of the store.
 */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const b = Buffer.allocUnsafe(keyValueSize(kv))
  writeKeyValue({ ...kv, keySource: kv.key, keyStart: 0, valueSource: kv.value, valueStart: 0 }, b, 0)
  return b
}

/**
 * A KeyValue whose key and value are `key.length` and `value.length` bytes of their sources from their
 * starts: a stored row, read in place, needs no view of either.
 */
export interface KeyValueInPlace extends KeyValueShape {
  keySource: Buffer
  keyStart: number
  valueSource: Buffer
  valueStart: number
}

/** Writes `kv` as an mvccpb.KeyValue at `b[start]`: keyValueSize(kv) bytes. */
export function writeKeyValue(kv: KeyValueInPlace, b: Buffer, start: number): void {
  let at = start
  if (kv.key.length > 0) at = writeBytesField(b, at, 0x0a, kv.keySource, kv.keyStart, kv.key.length)
  if (kv.createRevision !== 0) at = writeVarint(b, writeTag(b, at, 0x10), kv.createRevision)
  if (kv.modRevision !== 0) at = writeVarint(b, writeTag(b, at, 0x18), kv.modRevision)
  if (kv.version !== 0) at = writeVarint(b, writeTag(b, at, 0x20), kv.version)
  if (kv.value.length > 0) at = writeBytesField(b, at, 0x2a, kv.valueSource, kv.valueStart, kv.value.length)
  if (kv.lease !== 0n) {
    b[at++] = 0x30
    for (let u = BigInt.asUintN(64, kv.lease); ; u >>= 7n) {
      if (u < 0x80n) {
        b[at++] = Number(u)
        break
      }
      b[at++] = Number(u & 0x7fn) | 0x80
    }
  }
}

// each writes at b[at] and returns where it ended
function writeTag(b: Buffer, at: number, tag: number): number {
  b[at] = tag
  return at + 1
}

function writeVarint(b: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    b[at++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  b[at++] = n
  return at
}

function writeBytesField(b: Buffer, at: number, tag: number, source: Buffer, start: number, length: number): number {
  at = writeVarint(b, writeTag(b, at, tag), length)
  return at + source.copy(b, at, start, start + length)
}

/**
 * An mvccpb.KeyValue, read by hand (a restore reads every revision of a store): its key and value are
 * views of `b`. Unknown fields are skipped; a known one of the wrong wire type, a field past the end
 * or an int64 out of range is an error.
 */
export function decodeKeyValue(b: Buffer): KeyValue {
  const kv: KeyValue = { key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0, lease: 0n }
  const r = new WireReader(b, 'mvccpb.KeyValue')
  while (r.at < b.length) {
    const tag = r.varint32()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 0) throw r.fail('field number 0')
    const expected = field <= 6 ? KEY_VALUE_WIRE_TYPES[field] : undefined
    if (expected !== undefined && wire !== expected) throw r.fail(`field ${field} has wire type ${wire}`)
    switch (field) {
      case 1: kv.key = r.bytes(); break
      case 2: kv.createRevision = r.revision(); break
      case 3: kv.modRevision = r.revision(); break
      case 4: kv.version = r.revision(); break
      case 5: kv.value = r.bytes(); break
      case 6: kv.lease = r.int64(); break
      default: r.skip(wire)
    }
  }
  return kv
}

/** mvccpb.KeyValue's fields' wire types, by field number: 0 varint, 2 length-delimited. */
const KEY_VALUE_WIRE_TYPES = [-1, 2, 0, 0, 0, 2, 0]

/** A cursor over protobuf's wire format in a buffer, every read checked against its end. */
class WireReader {
  at = 0

  constructor(
    private readonly b: Buffer,
    private readonly what: string,
  ) {}

  /** A varint of at most 32 bits (a tag or a length). */
  varint32(): number {
    let n = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte()
      n += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) {
        if (n > 0xffff_ffff) throw this.fail('a varint32 is out of range')
        return n
      }
    }
    throw this.fail('a varint32 runs past 5 bytes')
  }

  /** An int64 that must be a revision: 0 to 2^53 - 1, read without a bigint. */
  revision(): number {
    const start = this.at
    let n = 0
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte()
      n += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) break
      if (shift >= 49) {
        // past 8 bytes: read again as what it may be (2^56 and up, negative, or padded)
        this.at = start
        return checkedRevision(this.int64())
      }
    }
    return checkedRevision(n)
  }

  int64(): bigint {
    let n = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte()
      n |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return BigInt.asIntN(64, n)
    }
    throw this.fail('a varint runs past 10 bytes')
  }

  /** A length-delimited field's bytes, as a view. */
  bytes(): Buffer {
    const length = this.varint32()
    if (this.at + length > this.b.length) throw this.fail(`${length} bytes at ${this.at} run past its end`)
    this.at += length
    return this.b.subarray(this.at - length, this.at)
  }

  skip(wire: number): void {
    if (wire === 0) this.int64()
    else if (wire === 2) this.bytes()
    else if (wire === 1 || wire === 5) this.advance(wire === 1 ? 8 : 4)
    else throw this.fail(`wire type ${wire}`)
  }

  fail(message: string): EtcdError {
    return Errors.snapshotInvalid(`a ${this.what} record does not decode: ${message}`)
  }

  private advance(n: number): void {
    if (this.at + n > this.b.length) throw this.fail(`${n} bytes at ${this.at} run past its end`)
    this.at += n
  }

  private byte(): number {
    if (this.at >= this.b.length) throw this.fail(`a varint runs past its end`)
    return this.b[this.at++]!
  }
}

/** leasepb.Lease: ID 1, TTL 2 (RemainingTTL 3 is etcd's checkpoint, not written here). */
export interface LeaseRecord {
  id: bigint
  ttl: number
}

export function encodeLease(l: LeaseRecord): Buffer {
  const w = protobuf.Writer.create()
  if (l.id !== 0n) w.uint32(0x08).int64(toLongBits(l.id))
  if (l.ttl !== 0) w.uint32(0x10).int64(l.ttl)
  return Buffer.from(w.finish())
}

export function decodeLease(b: Buffer): LeaseRecord {
  const l: LeaseRecord = { id: 0n, ttl: 0 }
  decodeFields(b, 'leasepb.Lease', [0, 0, 0, 0], (field, r) => {
    switch (field) {
      case 1: l.id = fromLong(r.int64()); return true
      case 2: l.ttl = revision(r); return true
      case 3: r.int64(); return true
      default: return false
    }
  })
  return l
}

/** etcdserverpb.AlarmMember, the key of an `alarm` bucket entry: memberID 1 (uint64), alarm 2 (enum). */
export function encodeAlarmMember(memberId: bigint, alarm: number): Buffer {
  const w = protobuf.Writer.create()
  if (memberId !== 0n) w.uint32(0x08).uint64(toLongBits(memberId))
  if (alarm !== 0) w.uint32(0x10).int32(alarm)
  return Buffer.from(w.finish())
}

export function decodeAlarmMember(b: Buffer): { memberId: bigint; alarm: number } {
  const a = { memberId: 0n, alarm: 0 }
  decodeFields(b, 'etcdserverpb.AlarmMember', [0, 0, 0], (field, r) => {
    switch (field) {
      case 1: a.memberId = BigInt.asUintN(64, fromLong(r.uint64())); return true
      case 2: a.alarm = r.int32(); return true
      default: return false
    }
  })
  return a
}

const EMPTY = Buffer.alloc(0)
const bytes = (r: protobuf.Reader) => Buffer.from(r.bytes())

function revision(r: protobuf.Reader): number {
  return checkedRevision(fromLong(r.int64()))
}

function checkedRevision(v: number | bigint): number {
  if (v < 0 || v > Number.MAX_SAFE_INTEGER) throw Errors.snapshotInvalid(`int64 field ${v} is out of range`)
  return Number(v)
}

/**
 * Reads every field; `known` reads the ones it knows (returning true), the rest are skipped by wire
 * type. `wireTypes[n]` is field n's wire type (0 varint, 2 length-delimited).
 */
function decodeFields(b: Buffer, what: string, wireTypes: readonly number[], known: (field: number, r: protobuf.Reader) => boolean): void {
  const r = protobuf.Reader.create(b)
  try {
    while (r.pos < r.len) {
      const tag = r.uint32()
      const field = tag >>> 3
      if (field === 0) throw new Error('field number 0')
      const wire = tag & 7
      if (field < wireTypes.length && wire !== wireTypes[field]) throw new Error(`field ${field} has wire type ${wire}`)
      if (!known(field, r)) r.skipType(wire)
    }
  } catch (err) {
    if (err instanceof EtcdError) throw err
    throw Errors.snapshotInvalid(`a ${what} record does not decode: ${(err as Error).message}`)
  }
}

/** The `auth` bucket's keys (auth/store.go). */
export const AUTH_KEYS = {
  enabled: 'authEnabled',
  revision: 'authRevision',
} as const

/** authpb.User: name 1, password 2 (the bcrypt hash), roles 3, options 4 (UserAddOptions: no_password 1). */
export interface AuthUserRecord {
  name: string
  password: string
  roles: string[]
  noPassword: boolean
}

export function encodeAuthUser(u: AuthUserRecord): Buffer {
  const w = protobuf.Writer.create()
  if (u.name.length > 0) w.uint32(0x0a).bytes(Buffer.from(u.name))
  if (u.password.length > 0) w.uint32(0x12).bytes(Buffer.from(u.password))
  for (const role of u.roles) w.uint32(0x1a).string(role)
  if (u.noPassword) w.uint32(0x22).fork().uint32(0x08).bool(true).ldelim()
  return Buffer.from(w.finish())
}

export function decodeAuthUser(b: Buffer): AuthUserRecord {
  const u: AuthUserRecord = { name: '', password: '', roles: [], noPassword: false }
  decodeFields(b, 'authpb.User', [0, 2, 2, 2, 2], (field, r) => {
    switch (field) {
      case 1: u.name = bytes(r).toString(); return true
      case 2: u.password = bytes(r).toString(); return true
      case 3: u.roles.push(r.string()); return true
      case 4:
        decodeFields(bytes(r), 'authpb.UserAddOptions', [0, 0], (option, o) => option === 1 && ((u.noPassword = o.bool()), true))
        return true
      default: return false
    }
  })
  return u
}

/** authpb.Role: name 1, keyPermission 2 (authpb.Permission: permType 1, key 2, range_end 3). */
export interface AuthRoleRecord {
  name: string
  perms: Array<{ permType: number; key: Buffer; rangeEnd: Buffer }>
}

export function encodeAuthRole(role: AuthRoleRecord): Buffer {
  const w = protobuf.Writer.create()
  if (role.name.length > 0) w.uint32(0x0a).bytes(Buffer.from(role.name))
  for (const p of role.perms) {
    w.uint32(0x12).fork()
    if (p.permType !== 0) w.uint32(0x08).int32(p.permType)
    if (p.key.length > 0) w.uint32(0x12).bytes(p.key)
    if (p.rangeEnd.length > 0) w.uint32(0x1a).bytes(p.rangeEnd)
    w.ldelim()
  }
  return Buffer.from(w.finish())
}

export function decodeAuthRole(b: Buffer): AuthRoleRecord {
  const role: AuthRoleRecord = { name: '', perms: [] }
  decodeFields(b, 'authpb.Role', [0, 2, 2], (field, r) => {
    switch (field) {
      case 1: role.name = bytes(r).toString(); return true
      case 2: {
        const p = { permType: 0, key: EMPTY, rangeEnd: EMPTY }
        decodeFields(bytes(r), 'authpb.Permission', [0, 0, 2, 2], (f, pr) => {
          switch (f) {
            case 1: p.permType = pr.int32(); return true
            case 2: p.key = bytes(pr); return true
            case 3: p.rangeEnd = bytes(pr); return true
            default: return false
          }
        })
        role.perms.push(p)
        return true
      }
      default: return false
    }
  })
  return role
}
