/** What the streaming RPC routes (watch, lease keepalive) share: unread bodies, open streams to end on close. */
import type { OutgoingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Errors } from '../../errors.js'
import { HttpStreamResponse } from './http-stream.js'

/** In this plugin's scope the body stays unread: the route reads request.raw as the messages arrive. */
export function leaveBodiesUnread(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, _payload, done) => done(null))
}

/**
 * Takes the reply over as an HTTP stream. On server close the stream ends as etcd's do when the member
 * shuts down (an in-band `transport is closing` error); otherwise the server would wait for watches forever.
 */
export function openHttpStream(reply: FastifyReply, open: Set<HttpStreamResponse>): HttpStreamResponse {
  reply.hijack()
  const stream = new HttpStreamResponse(reply.raw, reply.getHeaders() as OutgoingHttpHeaders)
  open.add(stream)
  stream.onClose(() => open.delete(stream))
  return stream
}

export function endStreamsOnClose(app: FastifyInstance, open: Set<HttpStreamResponse>): void {
  app.addHook('preClose', async () => {
    for (const stream of open) stream.abort(Errors.transportClosing())
  })
}
