/**
 * Who a request says it comes from, read once per request (once per WebSocket, at its upgrade):
 * - a token, as etcd's gateway takes it, in `Grpc-Metadata-Token: <token>` or `Authorization: <token>`
 *   (etcd reads the first first), and as other tools send it, `Authorization: Bearer <token>`;
 * - on a WebSocket, for browsers (which cannot set headers on one), the token after `Bearer` in the
 *   Sec-WebSocket-Protocol list: `new WebSocket(url, ['Bearer', token])`;
 * - with --client-cert-auth, the common name of the verified client certificate (etcd#10944: etcd's
 *   gateway cannot pass it on; 3.4.23 refuses such requests). A token, when there is one, comes first, as in etcd.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { Credentials } from '../backend/backend.js'

const BEARER = /^bearer +/i

/** Reads a request's credentials. */
export type CredentialsReader = (request: IncomingMessage) => Credentials

/** `clientCertAuth`: a verified client certificate's common name names the user (etcd's --client-cert-auth). */
export function credentialsReader(clientCertAuth: boolean): CredentialsReader {
  return (request) => {
    const token = tokenOf(request.headers)
    const commonName = clientCertAuth ? verifiedCommonName(request) : undefined
    if (token === undefined && commonName === undefined) return NONE
    return { ...(token !== undefined ? { token } : {}), ...(commonName !== undefined ? { commonName } : {}) }
  }
}

function tokenOf(headers: IncomingHttpHeaders): string | undefined {
  const metadata = headers['grpc-metadata-token']
  if (metadata !== undefined) return typeof metadata === 'string' ? metadata : metadata[0]
  const authorization = headers.authorization
  if (authorization !== undefined) return authorization.replace(BEARER, '')
  return subprotocolToken(headers['sec-websocket-protocol'])
}

/** The entry after `Bearer` in a WebSocket upgrade's Sec-WebSocket-Protocol list. */
function subprotocolToken(list: string | undefined): string | undefined {
  if (list === undefined) return undefined
  const protocols = list.split(',').map((p) => p.trim())
  const at = protocols.findIndex((p) => p.toLowerCase() === 'bearer')
  return at >= 0 ? protocols[at + 1] : undefined
}

function verifiedCommonName(request: IncomingMessage): string | undefined {
  const socket = request.socket as Partial<TLSSocket>
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined
  const cn = socket.getPeerCertificate().subject?.CN
  // a subject may repeat CN; etcd takes the first
  const name = Array.isArray(cn) ? cn[0] : cn
  return name === undefined || name === '' ? undefined : name
}

const NONE: Credentials = Object.freeze({})
