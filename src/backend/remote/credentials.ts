import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'

/** etcdctl's TLS flags: --cacert (trust), --cert and --key (client certificate for mTLS). */
export interface TlsFiles {
  cacert?: string
  cert?: string
  key?: string
}

/** The files' contents, checked: the key belongs to the certificate. */
export interface ClientTls {
  ca: Buffer | null
  key: Buffer | null
  cert: Buffer | null
}

/** As etcdctl: an `https://` endpoint, or any TLS flag, means TLS; `http://` without TLS flags is plain. */
export function wantsTls(endpoint: string, tls: TlsFiles): boolean {
  return endpoint.startsWith('https://') || tls.cacert !== undefined || tls.cert !== undefined
}

/** Reads the TLS files; throws an Error naming the flag, the file and the reason. */
export function readClientTls(tls: TlsFiles): ClientTls {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new Error('--cert and --key must be given together')
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return null
    try {
      return readFileSync(file)
    } catch (err) {
      throw new Error(`${flag} ${file}: cannot read: ${(err as Error).message}`)
    }
  }
  const files = { ca: read('--cacert', tls.cacert), key: read('--key', tls.key), cert: read('--cert', tls.cert) }
  if (files.cert && files.key) {
    let matches: boolean
    try {
      matches = new X509Certificate(files.cert).checkPrivateKey(createPrivateKey(files.key))
    } catch (err) {
      throw new Error(`--cert ${tls.cert} / --key ${tls.key}: cannot parse: ${(err as Error).message}`)
    }
    if (!matches) throw new Error(`--key ${tls.key}: private key does not match the certificate in ${tls.cert}`)
  }
  return files
}

export function sameClientTls(a: ClientTls, b: ClientTls): boolean {
  const same = (x: Buffer | null, y: Buffer | null) => (x === null ? y === null : y !== null && x.equals(y))
  return same(a.ca, b.ca) && same(a.key, b.key) && same(a.cert, b.cert)
}

/** The TLS of an endpoint's connections (undefined: plain text); without --cacert the system's trusted roots verify the server. */
export function endpointTls(endpoint: string, tls: TlsFiles, files: ClientTls | undefined): ClientTls | undefined {
  return wantsTls(endpoint, tls) ? (files ?? readClientTls(tls)) : undefined
}

export function channelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  return tls ? grpc.credentials.createSsl(tls.ca, tls.key, tls.cert) : grpc.credentials.createInsecure()
}
