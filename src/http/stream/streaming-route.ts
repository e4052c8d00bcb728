/** What the streaming RPC routes (watch, lease keepalive) share: unread bodies, open streams to end on close. */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { Errors } from '../../errors.js'
import type { JsonValue } from '../codec/json.js'
import { HttpStreamResponse } from './http-stream.js'
import { readHttpRequestMessages, type StreamLimits } from './request-messages.js'
import { startError } from './stream-errors.js'

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

/**
 * The rest of a streaming RPC's life over HTTP: the body's messages go to `message`, the session closes
 * with the stream or at a first message that does not decode, and `end` runs when the body ends.
 */
export function serveHttpStream(
  request: IncomingMessage,
  stream: HttpStreamResponse,
  session: { close(): void },
  limits: StreamLimits,
  message: (v: JsonValue) => void,
  end: () => void,
): void {
  stream.onClose(() => session.close())
  readHttpRequestMessages(request, stream, limits, {
    message,
    firstError: (err) => {
      session.close()
      stream.fail(startError(err))
    },
    end,
  })
}
