/** etcd's Maintenance service: POST /v3/maintenance/{alarm,status,defragment,hash,snapshot,transfer-leadership}. */
import { Readable } from 'node:stream'
import { STATUS_CODES } from 'node:http'
import type { FastifyPluginAsync } from 'fastify'
import type { Backend, SnapshotChunk } from '../../backend/backend.js'
import { EtcdError, etcdErrorOf, httpStatusOf } from '../../errors.js'
import { decoders, encoders } from '../codec/codecs.js'
import { asIs, bodyValue, type RequestLimits, unaryHandler } from '../rpc.js'

export interface MaintenanceRoutesOptions {
  backend: Backend
  limits: RequestLimits
}

/** etcd leaves the header of these responses unset, so its gateway writes `{}`. */
const noHeader = () => ({})

// 3.4 declares HashKV on the same path as Hash, so /v3/maintenance/hashkv is not served (404).
export const maintenanceRoutes: FastifyPluginAsync<MaintenanceRoutesOptions> = async (app, { backend, limits }) => {
  const m = backend.maintenance
  app.post(
    '/v3/maintenance/alarm',
    unaryHandler(limits, {
      decode: decoders.AlarmRequest,
      proposal: () => true,
      call: (req) => m.alarm(req),
      encode: encoders.AlarmResponse,
    }),
  )
  app.post(
    '/v3/maintenance/status',
    unaryHandler(limits, {
      decode: decoders.StatusRequest,
      proposal: () => false,
      call: () => m.status(),
      encode: encoders.StatusResponse,
    }),
  )
  app.post(
    '/v3/maintenance/defragment',
    unaryHandler(limits, {
      decode: decoders.DefragmentRequest,
      proposal: () => false,
      call: () => m.defragment().then(noHeader),
      encode: encoders.DefragmentResponse,
    }),
  )
  app.post(
    '/v3/maintenance/hash',
    // the body's `revision` (HashKV's) is ignored: 3.4 answers with the plain Hash
    unaryHandler(limits, {
      decode: decoders.HashRequest,
      proposal: () => false,
      call: () => m.hash(),
      encode: encoders.HashResponse,
    }),
  )
  app.post(
    '/v3/maintenance/transfer-leadership',
    unaryHandler(limits, {
      decode: decoders.MoveLeaderRequest,
      proposal: () => false,
      call: (req) => m.moveLeader(req.targetId).then(noHeader),
      encode: encoders.MoveLeaderResponse,
    }),
  )

  app.post('/v3/maintenance/snapshot', async (request, reply) => {
    decoders.SnapshotRequest(bodyValue(request))
    request.rpcStarted = true
    const chunks = m.snapshot()[Symbol.asyncIterator]()
    // as the gateway: nothing is sent before the first message, so a failed start gets its own status
    let first: IteratorResult<SnapshotChunk>
    try {
      first = await chunks.next()
    } catch (err) {
      const e = etcdErrorOf(err)
      return reply.code(httpStatusOf(e.grpcCode)).header('content-type', 'application/json').serializer(asIs).send(streamError(e))
    }
    reply
      .header('content-type', 'application/json')
      .header('grpc-metadata-content-type', 'application/grpc')
      .serializer(asIs)
    return reply.send(Readable.from(messages(first, chunks), { objectMode: false }))
  })
}

async function* messages(first: IteratorResult<SnapshotChunk>, rest: AsyncIterator<SnapshotChunk>): AsyncGenerator<string> {
  let next = first
  try {
    while (!next.done) {
      yield '{"result":' + encoders.SnapshotResponse(next.value) + '}\n'
      next = await rest.next()
    }
  } catch (err) {
    yield streamError(etcdErrorOf(err))
  } finally {
    await rest.return?.()
  }
}

/** grpc-gateway's in-stream error: its own shape, and no newline after it. */
export function streamError(e: EtcdError): string {
  const http = httpStatusOf(e.grpcCode)
  return JSON.stringify({
    error: { grpc_code: e.grpcCode, http_code: http, message: e.message, http_status: STATUS_CODES[http] ?? '' },
  })
}
