/** The OpenAPI 3.1 document of the server, generated from the routes in messages.ts and the message types. */
import { ETCDGW_VERSION } from '../../version.js'
import { schemasOf } from './json-schema.js'
import { operations, ownOperations, type Operation, type Schema } from './messages.js'

const json = (schema: Schema) => ({ 'application/json': { schema } })
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` })

const encodingParameter = {
  name: 'encoding',
  in: 'query',
  required: false,
  description: 'utf8: keys, values, range ends and lease keys as UTF-8 strings (text mode); base64 (default): as etcd',
  schema: { type: 'string', enum: ['base64', 'utf8'] },
}

/** `own`: etcdgw's own JSON route, which knows no text mode. */
function operationObject(op: Operation, own = false): Record<string, unknown> {
  const o: Record<string, unknown> = { summary: op.summary, operationId: `${op.method}${op.path.replace(/[/-]+(\w)/g, (_, c: string) => c.toUpperCase())}` }
  if (op.method === 'post' && !own) o.parameters = [encodingParameter]
  if (op.request) {
    o.requestBody = {
      required: false,
      description: op.stream ? 'one or more request messages, concatenated' : undefined,
      content: json(ref(op.request)),
    }
  }
  const ok = op.text
    ? { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } }
    : op.stream
      ? {
          description: 'a stream: one {"result": message} JSON line per response (an {"error": ...} line ends it)',
          content: json({ type: 'object', properties: { result: ref(op.response!), error: ref('Error') } }),
        }
      : { description: 'OK', content: json(ref(op.response!)) }
  if (op.octetStream) {
    ok.description += `; with Accept: application/octet-stream (etcdgw, not etcd), ${op.octetStream}`
    Object.assign(ok.content, { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } })
  }
  o.responses = op.method === 'post' ? { 200: ok, default: { description: "etcd's error", content: json(ref('Error')) } } : { 200: ok }
  return o
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const op of operations) {
    const item = (paths[op.path] ??= {})
    item[op.method] = operationObject(op)
    // every RPC is served over a WebSocket at its path too, as on etcd's gateway
    if (op.method === 'post') {
      const frames = op.stream
        ? 'request messages as text frames, response messages (no result wrapper on errors) as frames'
        : "the request message as a text frame, its response (or etcd's error body) as a frame; each further request is answered the same way"
      item.get = {
        summary: `${op.summary.replace(/ \(.*\)/, '')} over a WebSocket: ${frames}`,
        operationId: `ws${op.path.replace(/[/-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
        parameters: [encodingParameter],
        responses: { 101: { description: 'Switching Protocols (WebSocket)' } },
      }
    }
  }
  for (const op of ownOperations) (paths[op.path] ??= {})[op.method] = operationObject(op, true)
  return {
    openapi: '3.1.0',
    info: {
      title: 'etcdgw: the etcd v3 API on HTTP/JSON',
      version: ETCDGW_VERSION,
      description:
        "etcd 3.4's JSON gateway, byte for byte, plus text mode (?encoding=utf8). Every request is a POST with a JSON body; 64-bit integers are strings.",
    },
    paths,
    components: { schemas: schemasOf(operations.flatMap((op) => [op.request, op.response].filter((n) => n !== undefined))) },
  }
}
