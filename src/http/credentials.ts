/**
 * Who a request says it comes from. A token travels as etcd's gateway takes it, in `Authorization: <token>`
 * or `Grpc-Metadata-Token: <token>` (etcd reads the second first), and as other tools send it,
 * `Authorization: Bearer <token>`.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Credentials } from '../backend/backend.js'

const BEARER = /^bearer +/i

export function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const metadata = headers['grpc-metadata-token']
  if (metadata !== undefined) return typeof metadata === 'string' ? metadata : metadata[0]
  const authorization = headers.authorization
  if (authorization === undefined) return undefined
  return authorization.replace(BEARER, '')
}

export function credentialsOf(request: IncomingMessage): Credentials {
  const token = tokenOf(request.headers)
  return token === undefined ? NONE : { token }
}

const NONE: Credentials = Object.freeze({})
