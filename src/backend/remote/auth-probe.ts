/**
 * Remote mode, requests whose only credential is a client certificate (--client-cert-auth). etcd cannot
 * take the certificate's CN as a user through the gateway (the gateway's connection is its own), and the
 * gateway cannot become that user without their password. While etcd has auth disabled there is no user
 * to be, and such a request goes to etcd as it is; while etcd has auth enabled it is refused, saying why.
 * Whether etcd has auth enabled is asked with an Authenticate of no user ("authentication is not enabled"
 * or "authentication failed"), at start and then again, in the background, when the last answer is
 * older than MAX_AGE_MS and such a request comes; until etcd has answered once, such requests are refused.
 */
import { Errors } from '../../errors.js'
import type { EndpointPool } from './endpoint-pool.js'
import { toEtcdError } from './errors.js'

const MAX_AGE_MS = 2_000

export class EtcdAuthProbe {
  private enabled: boolean | undefined
  private askedAt = 0
  private asking: Promise<void> | undefined

  constructor(
    private readonly pool: EndpointPool,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks etcd now (resolves whatever the answer, keeping the last known state when there is none). */
  refresh(): Promise<void> {
    this.asking ??= this.ask().finally(() => (this.asking = undefined))
    return this.asking
  }

  /** Asks etcd, waiting for the answer at most `maxMs` (a cluster still down answers later, in the background). */
  async start(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.refresh(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))])
    clearTimeout(timer)
  }

  /** Throws the refusal unless etcd had auth disabled when last asked. */
  admit(commonName: string): void {
    if (!this.knownDisabled()) throw Errors.certificateIdentityRemote(commonName)
  }

  /** Whether etcd had auth disabled when last asked (asking again in the background when that is old). */
  knownDisabled(): boolean {
    if (this.now() - this.askedAt >= MAX_AGE_MS) void this.refresh()
    return this.enabled === false
  }

  private async ask(): Promise<void> {
    this.askedAt = this.now()
    try {
      await this.pool.call('Auth', 'Authenticate', { name: '', password: '' }, 'serializable')
      this.enabled = true
    } catch (err) {
      const code = toEtcdError(err).code
      if (code === Errors.authNotEnabled.code) this.enabled = false
      else if (code === Errors.authFailed.code) this.enabled = true
    }
  }
}
