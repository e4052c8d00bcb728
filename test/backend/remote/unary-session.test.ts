/**
 * The unary calls' own HTTP/2 session against a real etcd: answers and etcd's errors as grpc-js gives
 * them, and the failures errors.ts tells apart (never sent, deadline passed).
 */
import http2 from 'node:http2'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { Metadata, status } from '@grpc/grpc-js'
import t from 'tap'
import { neverReachedServer } from '../../../src/backend/remote/errors.js'
import { etcdServices } from '../../../src/backend/remote/proto.js'
import { UnarySession } from '../../../src/backend/remote/unary-session.js'
import { etcdMissing, startEtcd } from '../../helpers/etcd.js'
import { freePort } from '../../helpers/process.js'

const missing = etcdMissing()
if (missing) t.plan(0, missing)
else {
  const etcd = await startEtcd({ teardown: t })
  const session = new UnarySession(etcd.url, undefined)
  t.teardown(() => session.close())
  const { Put, Range } = etcdServices().KV.service
  const call = (s: UnarySession, method: typeof Put, req: unknown, deadline: number) =>
    s.call(method!.path, method!.requestSerialize(req), deadline, new Metadata()).then((answer) => method!.responseDeserialize(answer))

  await t.test("answers, and etcd's errors with their code and text", async (t) => {
    const twelveDays = Date.now() + 12 * 24 * 3600 * 1000
    const put = (await call(session, Put!, { key: Buffer.from('k'), value: Buffer.from('v') }, twelveDays)) as { header: { revision: string } }
    t.ok(Number(put.header.revision) > 1, 'a deadline days away fits the timeout header')
    await t.rejects(call(session, Range!, { key: Buffer.alloc(0) }, Date.now() + 5_000), {
      code: status.INVALID_ARGUMENT,
      details: 'etcdserver: key is not provided',
    })
  })

  await t.test('nothing listening: never sent, so a write may be sent again', async (t) => {
    const nowhere = new UnarySession(`http://127.0.0.1:${await freePort()}`, undefined)
    t.teardown(() => nowhere.close())
    const err = await call(nowhere, Put!, { key: Buffer.from('k') }, Date.now() + 5_000).catch((e: unknown) => e)
    t.match(err, { code: status.UNAVAILABLE, details: /^No connection established/ })
    t.ok(neverReachedServer(err as never))
  })

  await t.test('a member that does not answer: the call ends at its deadline', async (t) => {
    const sockets: Socket[] = []
    const silent = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.teardown(() => {
      for (const socket of sockets) socket.destroy()
      silent.close()
    })
    const mute = new UnarySession(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, undefined)
    t.teardown(() => mute.close())
    await t.rejects(call(mute, Range!, { key: Buffer.from('k') }, Date.now() + 200), { code: status.DEADLINE_EXCEEDED })
  })

  await t.test('an answer whose message is cut short or runs on fails as malformed, never as a partial answer', async (t) => {
    // a put's answer (a header) as etcd frames it, then the same with its prefix claiming a byte more or less
    const message = Put!.responseSerialize({ header: { revision: '7' } })
    const framed = (length: number) => {
      const prefix = Buffer.alloc(5)
      prefix.writeUInt32BE(length, 1)
      return Buffer.concat([prefix, message])
    }
    let body = framed(message.length)
    const server = http2.createServer()
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
      stream.end(body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const fake = new UnarySession(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, undefined)
    t.teardown(() => {
      fake.close()
      server.close()
    })
    t.match(await call(fake, Put!, { key: Buffer.from('k') }, Date.now() + 5_000), { header: { revision: '7' } }, 'whole: the answer')
    for (const length of [message.length + 1, message.length - 1]) {
      body = framed(length)
      await t.rejects(call(fake, Put!, { key: Buffer.from('k') }, Date.now() + 5_000), { code: status.INTERNAL, details: 'Malformed response message' }, `prefix says ${length} of ${message.length} bytes`)
    }
  })
}
