/**
 * The WebSocket side of the streaming RPC routes (watch, lease keepalive).
 *
 * Their routes keep nothing of the upgrade request. @fastify/websocket leaves the upgrade's
 * HTTP objects reachable from the open socket for the socket's whole life: its 'error' listener closes
 * over the Fastify request and reply, and the ServerResponse it made stays assigned to the connection
 * (the IncomingMessage, Fastify's response listeners and their state behind it). That is ~2.5 KB
 * per socket, never used after the 101 answer: a quarter of what a watcher costs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type {} from '@fastify/websocket'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { Credentials } from '../../backend/backend.js'
import type { CredentialsReader } from '../credentials.js'
import type { WebSocket } from 'ws'
import type { JsonValue } from '../codec/json.js'
import type { MessageSink } from './message-sink.js'
import { readWsRequestMessages, type StreamLimits } from './request-messages.js'
import { type ErrorShape, failWebSocket, reportWebSocketError, startError } from './stream-errors.js'
import type { WsHeartbeat } from './ws-heartbeat.js'

/**
 * Runs once the socket is open; `connection` is the one it runs on, `query` the URL's parsed query,
 * `credentials` what the upgrade request said about its caller (the socket's identity for its whole life).
 */
export type WsRouteHandler = (socket: WebSocket, connection: Socket, query: unknown, credentials: Credentials) => void

export function webSocketRoute(app: FastifyInstance, url: string, credentials: CredentialsReader, handler: WsRouteHandler): void {
  const responses = new WeakMap<IncomingMessage, ServerResponse>()
  app.route({
    method: 'GET',
    url,
    // A plain GET is not an RPC: 405 as for any other method.
    handler: (_request, reply) => reply.callNotFound(),
    onRequest: (request, reply, done) => {
      if (request.ws) responses.set(request.raw, reply.raw)
      done()
    },
    wsHandler: (socket: WebSocket, request) => {
      const connection = request.raw.socket
      responses.get(request.raw)?.detachSocket(connection)
      // gone from the map at once: an entry would keep both alive until the next full GC
      responses.delete(request.raw)
      // the plugin's default handler for errors of an open socket, without its hold on the request
      socket.removeAllListeners('error')
      socket.on('error', (err) => {
        app.log.error({ err }, 'WebSocket error')
        socket.terminate()
      })
      handler(socket, connection, request.query, credentials(request.raw))
    },
  })
}

/** The session of an RPC that keeps nothing open between its messages. */
export const noSession = { close() {} }

/**
 * The rest of an RPC's life on an open socket: the messages of its frames go to `message` (the next waits
 * while it answers), a silent peer is pinged, and the session closes with the socket or at a first
 * message that does not decode. `shape` tells how such an error is written (a stream's start error by
 * default).
 */
export function serveWebSocket(
  socket: WebSocket,
  sink: MessageSink,
  session: { close(): void },
  limits: StreamLimits,
  message: (v: JsonValue) => void | Promise<void>,
  heartbeat: WsHeartbeat,
  shape: ErrorShape = startError,
): void {
  heartbeat.watch(socket)
  socket.on('close', () => session.close())
  readWsRequestMessages(socket, sink, limits, {
    message,
    firstError: (err) => {
      session.close()
      failWebSocket(socket, err, shape)
    },
    laterError: (err) => reportWebSocketError(socket, err, shape),
  })
}

/**
 * etcd's gateway upgrades a WebSocket on any /v3/ path; where no RPC is served it sends its 404 body,
 * `Not Found`, as one frame and drops the connection. A plain GET there goes to the not-found handler.
 */
export const notFoundOverWebSocket: FastifyPluginAsync = async (app) => {
  // nobody is served here: who asks does not matter
  webSocketRoute(app, '/v3/*', () => ({}), (socket) => {
    socket.send('Not Found', () => socket.terminate())
    if (socket.bufferedAmount > 0) socket.terminate()
  })
}
