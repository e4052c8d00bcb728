/**
 * Remote mode, requests whose only credential is a client certificate (--client-cert-auth). etcd cannot
 * take the certificate's CN as a user through the gateway (the gateway's connection is its own), and the
 * gateway cannot become that user without their password. While etcd has auth disabled there is no user
 * to be, and such a request goes to etcd as it is; while etcd has auth enabled it is refused, saying why.
 * Whether etcd has auth enabled is asked with a serializable count of one key and no token: it answers
 * while auth is disabled, and "user name is empty" (InvalidArgument, which etcd's failed-requests alert
 * does not count) while enabled. An Authenticate of no user would say it too, but fails either way, and
 * at this rate trips that alert on every member. It is asked at start and then every REFRESH_MS in the
 * background; an enable or disable
 * made through this gateway is known at once. "Disabled" counts only while the last answer is younger than
 * MAX_AGE_MS: past that (etcd unreachable) it is unknown, such requests are refused, and the replica answers
 * nothing. So auth enabled on etcd by another client is seen within about REFRESH_MS.
 */
import { Errors } from '../../errors.js'
import type { EndpointPool } from './endpoint-pool.js'
import { toEtcdError } from './errors.js'

const MAX_AGE_MS = 2_000
const REFRESH_MS = 500
/** A count of one key (any key: the answer or the refusal is what tells). */
const PROBE = { key: Buffer.from([0]), count_only: true, serializable: true }

export class EtcdAuthProbe {
  private enabled: boolean | undefined
  private answeredAt = -Infinity
  private asking: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly pool: EndpointPool,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks etcd now (resolves whatever the answer, keeping the last known state when there is none). */
  refresh(): Promise<void> {
    this.asking ??= this.ask().finally(() => (this.asking = undefined))
    return this.asking
  }

  /**
   * Asks etcd, waiting for the answer at most `maxMs` (a cluster still down answers later, in the
   * background), then keeps asking every REFRESH_MS until stop().
   */
  async start(maxMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.refresh(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxMs)))])
    clearTimeout(timer)
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS).unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** An enable or disable through this gateway, applied by etcd. */
  learned(enabled: boolean): void {
    this.enabled = enabled
    this.answeredAt = this.now()
  }

  /** Throws the refusal unless etcd had auth disabled when last asked. */
  admit(commonName: string): void {
    if (!this.knownDisabled()) throw Errors.certificateIdentityRemote(commonName)
  }

  /** Whether etcd had auth disabled when last asked, less than MAX_AGE_MS ago. */
  knownDisabled(): boolean {
    return this.enabled === false && this.now() - this.answeredAt < MAX_AGE_MS
  }

  private async ask(): Promise<void> {
    try {
      await this.pool.call('KV', 'Range', PROBE, 'serializable')
      this.learned(false)
    } catch (err) {
      if (toEtcdError(err).code === Errors.userEmpty.code) this.learned(true)
    }
  }
}
