/**
 * The TLS side of every https:// listener: the options servers start with and, when the certificate, key, CA bundle
 * or client CRL changes on disk, gives new handshakes the new files (open connections keep theirs). Unlike etcd, the CA
 * bundle reloads too, so a CA rotation needs no restart. A change that does not load (half-written, key
 * and certificate from different pairs) is logged and ignored: the previous files stay in use.
 */
import type { Server, ServerOptions } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { normalSerial } from '../../pki/index.js'
import type { TlsConfig } from '../config.js'
import { expiryWarnings, trackCertificates, type CertInUse } from './cert-expiry.js'
import { FileFollower, type FollowOptions } from './file-follower.js'
import { loadTlsMaterial, sameMaterial, type TlsMaterial } from './tls-files.js'

export interface TlsLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

export type WatchOptions = FollowOptions

export class ReloadingTls {
  private readonly servers = new Set<Server>()
  private log: TlsLog | undefined
  private untrack: (() => void) | undefined
  private follower!: FileFollower

  private constructor(
    private readonly config: TlsConfig,
    private material: TlsMaterial,
  ) {}

  /** Loads and checks the files; throws TlsFileError naming the file and the reason. */
  static async open(config: TlsConfig): Promise<ReloadingTls> {
    const tls = new ReloadingTls(config, await loadTlsMaterial(config))
    tls.follower = await FileFollower.open(tls.files(), () => tls.reload())
    return tls
  }

  /** The options an HTTPS server starts with: the current files and etcd's client certificate rule. */
  serverOptions(): ServerOptions {
    return { ...this.secureOptions(), ...this.clientAuth() }
  }

  /** Makes `server` use the files as they change from now on. */
  follow(server: Server): void {
    // etcd logs every failed handshake (no client certificate, unknown CA, …) as a warning.
    server.on('tlsClientError', (err, socket) => {
      // Node closes a verified-but-rejected client (unknown CA, expired, wrong usage) after the handshake,
      // so the error is a hang-up and the reason OpenSSL's verify code (e.g. CERT_HAS_EXPIRED); a missing
      // certificate fails the handshake itself (OpenSSL's reason: "peer did not return a certificate").
      const reason = socket.authorizationError ?? (err as Error & { reason?: string }).reason ?? err.message
      this.log?.warn({ error: String(reason) }, 'rejected connection')
    })
    // etcd's --client-crl-file: right after the handshake, a connection whose client chain holds a revoked serial is
    // closed before any request is read (first listener, so the HTTP server never sees it)
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const serial = revokedIn(socket, this.material.revoked)
      if (serial === undefined) return
      this.log?.warn({ error: `transport: certificate serial ${serial} revoked` }, 'rejected connection')
      socket.destroy()
    })
    server.on('close', () => this.servers.delete(server))
    this.servers.add(server)
  }

  /** Logs expiry warnings, exposes the certificates' expiry metrics and starts following the files. */
  watch(log: TlsLog, options: WatchOptions = {}): void {
    this.log = log
    this.warnAboutExpiry()
    this.untrack = trackCertificates(() => this.certsInUse())
    this.follower.start(log, options)
  }

  async close(): Promise<void> {
    this.untrack?.()
    await this.follower.close()
  }

  private async reload(): Promise<void> {
    let next: TlsMaterial
    try {
      next = await loadTlsMaterial(this.config)
    } catch (err) {
      this.log?.warn({ error: (err as Error).message }, 'TLS files changed but cannot be used; still serving the previous ones')
      return
    }
    if (sameMaterial(next, this.material)) return
    for (const server of this.servers) server.setSecureContext(this.secureOptions(next))
    this.material = next
    this.log?.info(
      { certFile: this.config.certFile, serial: next.served.serialNumber, trustedCas: next.trusted.length },
      'TLS files reloaded; new connections use them',
    )
    this.warnAboutExpiry()
  }

  private files(): string[] {
    const { certFile, keyFile, trustedCaFile, clientCrlFile } = this.config
    return [certFile, keyFile, trustedCaFile, clientCrlFile].filter((file): file is string => file !== undefined)
  }

  private secureOptions(material: TlsMaterial = this.material): ServerOptions {
    return { cert: material.cert, key: material.key, ...(material.ca === undefined ? {} : { ca: material.ca }) }
  }

  /** etcd: a trusted CA file alone already makes every client present a certificate chaining to it. */
  private clientAuth(): ServerOptions {
    const required = this.config.trustedCaFile !== undefined
    return { requestCert: required, rejectUnauthorized: required }
  }

  private certsInUse(): CertInUse[] {
    return [
      { role: 'served', file: this.config.certFile, cert: this.material.served },
      ...this.material.trusted.map((cert) => ({ role: 'trusted_ca' as const, file: this.config.trustedCaFile!, cert })),
    ]
  }

  private warnAboutExpiry(): void {
    for (const warning of expiryWarnings(this.certsInUse(), new Date())) this.log?.warn({}, warning)
  }
}

/** The first serial of the client's chain (its certificate, then its issuers) that `revoked` lists. */
function revokedIn(socket: TLSSocket, revoked: Set<string>): string | undefined {
  if (revoked.size === 0) return undefined
  const seen = new Set<string>()
  for (let cert = socket.getPeerCertificate(true); cert?.serialNumber && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256)
    const serial = normalSerial(cert.serialNumber)
    if (revoked.has(serial)) return serial
  }
  return undefined
}
