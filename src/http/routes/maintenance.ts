/** etcd's Maintenance service: POST /v3/maintenance/{alarm,status,defragment,hash,snapshot,transfer-leadership}. */
import { Readable } from 'node:stream'
import type { FastifyPluginAsync } from 'fastify'
import type { SnapshotChunk } from '../../backend/backend.js'
import { etcdErrorOf, httpStatusOf } from '../../errors.js'
import { codecAt } from '../codec/codecs.js'
import { encodeStreamError, resultLine } from '../codec/envelope.js'
import { asIs, bodyValue, serveUnary, type UnaryRoutes } from '../rpc.js'

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
  app.post('/v3/maintenance/snapshot', async (request, reply) => {
    snapshot.decode(bodyValue(request))
    request.rpcStarted = true
    const chunks = routes.backend.as(routes.credentials(request.raw)).maintenance.snapshot()[Symbol.asyncIterator]()
    // as the gateway: nothing is sent before the first message, so a failed start gets its own status
    let first: IteratorResult<SnapshotChunk>
    try {
      first = await chunks.next()
    } catch (err) {
      const e = etcdErrorOf(err)
      return reply.code(httpStatusOf(e.grpcCode)).header('content-type', 'application/json').serializer(asIs).send(encodeStreamError(e))
    }
    reply
      .header('content-type', 'application/json')
      .header('grpc-metadata-content-type', 'application/grpc')
      .serializer(asIs)
    return reply.send(Readable.from(messages(first, chunks, snapshot.encode), { objectMode: false }))
  })
}

async function* messages(
  first: IteratorResult<SnapshotChunk>,
  rest: AsyncIterator<SnapshotChunk>,
  encode: (chunk: SnapshotChunk) => string,
): AsyncGenerator<Buffer> {
  let next = first
  try {
    while (!next.done) {
      yield resultLine(encode(next.value))
      next = await rest.next()
    }
  } catch (err) {
    yield Buffer.from(encodeStreamError(etcdErrorOf(err)))
  } finally {
    await rest.return?.()
  }
}
