import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'

/** etcdctl's TLS flags: --cacert (trust), --cert and --key (client certificate for mTLS). */
export interface TlsFiles {
  cacert?: string
  cert?: string
  key?: string
}

/**
 * As etcdctl: an `https://` endpoint, or any TLS flag, means TLS; `http://` without TLS flags is plain.
 * Without --cacert the system's trusted roots verify the server.
 */
export function channelCredentials(endpoint: string, tls: TlsFiles): grpc.ChannelCredentials {
  const wantsTls = endpoint.startsWith('https://') || tls.cacert !== undefined || tls.cert !== undefined
  if (!wantsTls) return grpc.credentials.createInsecure()
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error('--cert and --key must be given together')
  const read = (file: string | undefined) => (file === undefined ? null : readFileSync(file))
  return grpc.credentials.createSsl(read(tls.cacert), read(tls.key), read(tls.cert))
}
