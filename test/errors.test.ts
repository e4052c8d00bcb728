import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { Errors, EtcdError, GrpcCode, etcdErrorOf, httpStatusOf, relayedEtcdError } from '../src/errors.js'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))
const entries = Object.entries(Errors)

t.test('every registry entry has a unique stable code, a message and a gRPC code', async (t) => {
  const codes = [...entries.map(([, e]) => e.code), relayedEtcdError.code]
  t.same(codes.filter((c, i) => codes.indexOf(c) !== i), [], 'no code given twice')
  for (const [name, e] of entries) {
    t.match(e.code, /^ETCDGW_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/, `${name}: code`)
    t.ok(Object.values(GrpcCode).includes(e.grpcCode) && e.grpcCode !== GrpcCode.OK, `${name}: a gRPC error code`)
    if (typeof e.message === 'string') t.ok(e.message.length > 0, `${name}: message`)
    else t.type(e.message, 'function', `${name}: message made from its arguments`)
  }
})

t.test('an entry makes a fresh EtcdError with its code, gRPC code and message', async (t) => {
  const e = Errors.keyNotFound()
  t.ok(e instanceof EtcdError)
  t.match(e, { code: 'ETCDGW_ERR_KEY_NOT_FOUND', grpcCode: GrpcCode.InvalidArgument, message: 'etcdserver: key not found' })
  t.not(Errors.keyNotFound(), e, 'a new error each time, for a useful stack')
  t.equal(httpStatusOf(e.grpcCode), 400)

  const failure = new Error('disk full')
  const persist = Errors.persistFailed('revision 7', failure)
  t.match(persist, { code: Errors.persistFailed.code, message: 'etcdserver: failed to persist revision 7: disk full' })
  t.equal(persist.cause, failure, 'the failure behind it is its cause')
  t.equal(Errors.messageTooLarge(10, 5).message, 'grpc: received message larger than max (10 vs. 5)')
})

t.test('etcdErrorOf keeps an EtcdError and makes anything else code 2 with its own text', async (t) => {
  const known = Errors.compacted()
  t.equal(etcdErrorOf(known), known)
  t.match(etcdErrorOf(new Error('boom')), { code: Errors.unknown.code, grpcCode: GrpcCode.Unknown, message: 'boom' })
  t.match(etcdErrorOf('odd'), { code: Errors.unknown.code, message: 'odd' })
})

t.test('no EtcdError is made outside the registry', async (t) => {
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))
  t.ok(files.length > 50, 'the source tree was found')
  const makers = files.filter((f) => f !== 'errors.ts' && readFileSync(join(SRC, f), 'utf8').includes('new EtcdError('))
  t.same(makers, [], 'every other module goes through Errors')
})
