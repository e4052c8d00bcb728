/** etcd's Maintenance service: POST /v3/maintenance/{alarm,status,defragment,hash,snapshot,transfer-leadership}. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import type { SnapshotChunk } from '../../backend/backend.js'
import { etcdErrorOf, GrpcCode, httpStatusOf } from '../../errors.js'
import { SHA256_TRAILER_BYTES } from '../../snapshot/bolt-format.js'
import { grpcMethodAt } from '../api/grpc-methods.js'
import type { RpcCall } from '../grpc-metrics.js'
import { codecAt } from '../codec/codecs.js'
import { encodeStreamError, resultLine } from '../codec/envelope.js'
import { asIs, bodyValue, serveUnary, type UnaryRoutes } from '../rpc.js'
import { WebSocket } from 'ws'
import type { JsonValue } from '../codec/json.js'
import { asCalled } from '../stream/stream-errors.js'
import { noSession, serveWebSocket, webSocketRoute } from '../stream/ws-route.js'
import { WsSink } from '../stream/ws-sink.js'

/** etcd leaves the header of these responses unset, so its gateway writes `{}`. */
const noHeader = () => ({})

// 3.4 declares HashKV on the same path as Hash, so /v3/maintenance/hashkv is not served (404).
export const maintenanceRoutes: FastifyPluginAsync<UnaryRoutes> = async (app, routes) => {
  serveUnary(app, routes, '/v3/maintenance/alarm', { proposal: () => true, call: (req, b) => b.maintenance.alarm(req) })
  serveUnary(app, routes, '/v3/maintenance/status', { proposal: () => false, call: (_req, b) => b.maintenance.status() })
  serveUnary(app, routes, '/v3/maintenance/defragment', {
    proposal: () => false,
    call: (_req, b) => b.maintenance.defragment().then(noHeader),
  })
  // the body's `revision` (HashKV's) is ignored: 3.4 answers with the plain Hash
  serveUnary(app, routes, '/v3/maintenance/hash', { proposal: () => false, call: (_req, b) => b.maintenance.hash() })
  serveUnary(app, routes, '/v3/maintenance/transfer-leadership', {
    proposal: () => false,
    call: (req, b) => b.maintenance.moveLeader(req.targetId).then(noHeader),
  })

  const snapshot = codecAt('/v3/maintenance/snapshot')
  const snapshotMethod = grpcMethodAt('/v3/maintenance/snapshot')
  const { metrics, streams, heartbeat } = app.rpcServices
  const startCall = (size: number) => {
    const call = metrics.start(snapshotMethod)
    call.received(size)
    return call
  }
  app.post('/v3/maintenance/snapshot', async (request, reply) => {
    const { size } = snapshot.decode(bodyValue(request))
    request.rpcStarted = true
    const call = startCall(size)
    let chunks: AsyncIterator<SnapshotChunk> | undefined
    // as the gateway: nothing is sent before the first message, so a failed start gets its own status
    let first: IteratorResult<SnapshotChunk>
    try {
      chunks = routes.backend.as(routes.credentials(request.raw)).maintenance.snapshot()[Symbol.asyncIterator]()
      first = await chunks.next()
    } catch (err) {
      const e = etcdErrorOf(err)
      call.end(e.grpcCode)
      return reply.code(httpStatusOf(e.grpcCode)).header('content-type', 'application/json').serializer(asIs).send(encodeStreamError(e))
    }
    if (acceptsOctetStream(request.headers.accept)) {
      // written here, not piped: each blob is released once the socket has taken it, so its memory is reused
      reply.hijack()
      const length = first.done ? {} : { 'content-length': first.value.blob.length + first.value.remainingBytes + SHA256_TRAILER_BYTES }
      reply.raw.writeHead(200, { ...(reply.getHeaders() as OutgoingHttpHeaders), 'content-type': OCTET_STREAM, ...length })
      return writeRawBytes(reply.raw, chunks, call, first)
    }
    reply
      .header('content-type', 'application/json')
      .header('grpc-metadata-content-type', 'application/grpc')
      .serializer(asIs)
    return reply.send(Readable.from(messages(chunks, snapshot.encode, call, first), { objectMode: false }))
  })

  // etcd's gateway over WebSocket: the first message is the request, each message of the stream a
  // frame, and the connection drops once the stream is over (its one request answered)
  webSocketRoute(app, '/v3/maintenance/snapshot', routes.credentials, (socket, connection, _query, caller) => {
    const sink = new WsSink(socket, connection)
    let requested = false
    const stream = async (call: RpcCall) => {
      const chunks: AsyncIterator<SnapshotChunk> = (async function* () {
        // the caller's permission is checked as the stream starts, so a refusal is its one message
        yield* routes.backend.as(caller).maintenance.snapshot()
      })()
      for await (const line of messages(chunks, snapshot.encode, call)) {
        if (socket.readyState !== WebSocket.OPEN) break
        sink.send(line[line.length - 1] === NEWLINE ? line : Buffer.concat([line, newline]))
        if (sink.bufferedBytes() > streams.sendBufferBytes) await new Promise<void>((resolve) => sink.onDrain(resolve))
      }
      connection.end(() => socket.terminate())
    }
    const message = (v: JsonValue) => {
      if (requested) return
      requested = true
      return stream(startCall(snapshot.decode(v).size))
    }
    serveWebSocket(socket, sink, noSession, streams, message, heartbeat, asCalled)
  })
}

const OCTET_STREAM = 'application/octet-stream'

/** Whether an Accept header names application/octet-stream: the snapshot as its file, beyond etcd's gateway. */
function acceptsOctetStream(accept: string | undefined): boolean {
  return accept !== undefined && accept.split(',').some((range) => range.split(';')[0]!.trim().toLowerCase() === OCTET_STREAM)
}

/**
 * The stream's blobs as they are, which make the snapshot file (`first`: its first chunk, already read),
 * each released once the socket has taken it. A failure after the start can only cut the response
 * short: the client sees fewer bytes than the Content-Length, and no sha256 to match.
 */
async function writeRawBytes(res: ServerResponse, rest: AsyncIterator<SnapshotChunk>, call: RpcCall, first: IteratorResult<SnapshotChunk>): Promise<void> {
  try {
    for (let next = first; !next.done; next = await rest.next()) {
      // the client left: the call ends Canceled
      if (res.destroyed) return
      call.sent(next.value.blob.length)
      if (!res.write(next.value.blob, next.value.release)) await drainedOrClosed(res)
    }
    call.end(GrpcCode.OK)
    res.end()
  } catch (err) {
    call.end(etcdErrorOf(err).grpcCode)
    // on a later turn, once the blobs written before have gone out: the client sees them, then the cut
    setImmediate(() => res.destroy())
  } finally {
    call.end(GrpcCode.Canceled)
    await rest.return?.()
  }
}

/** Resolves once `res` takes more writes, or has closed. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

const NEWLINE = 0x0a
const newline = Buffer.from('\n')

/**
 * The stream's lines (`first`: its first chunk, already read); the call ends with the stream (Canceled
 * when the client leaves first).
 */
async function* messages(
  rest: AsyncIterator<SnapshotChunk>,
  encode: (chunk: SnapshotChunk) => string,
  call: RpcCall,
  first?: IteratorResult<SnapshotChunk>,
): AsyncGenerator<Buffer> {
  try {
    let next = first ?? (await rest.next())
    while (!next.done) {
      const line = resultLine(encode(next.value))
      next.value.release?.()
      call.sent(line.length - 1)
      yield line
      next = await rest.next()
    }
    call.end(GrpcCode.OK)
  } catch (err) {
    const e = etcdErrorOf(err)
    call.end(e.grpcCode)
    yield Buffer.from(encodeStreamError(e))
  } finally {
    call.end(GrpcCode.Canceled)
    await rest.return?.()
  }
}
