/**
 * etcd's simple tokens (auth/simple_token.go): 16 random letters, a dot and the raft index of the
 * authentication, held in memory only. A token lives --auth-token-ttl seconds (default 300) after its
 * last use; a password change or the user's deletion ends the user's tokens, disabling auth ends all.
 */
import { randomInt } from 'node:crypto'
import type { TokenProvider } from './tokens.js'

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
const PREFIX_LENGTH = 16
/** etcd's default --auth-token-ttl, in seconds. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300

interface Held {
  user: string
  expiresAt: number
}

export class SimpleTokens implements TokenProvider {
  private readonly tokens = new Map<string, Held>()

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new token for the user, given at the raft index `index`. */
  async assign(user: string, _revision: number, index: number): Promise<string> {
    this.sweep()
    let prefix = ''
    for (let i = 0; i < PREFIX_LENGTH; i++) prefix += LETTERS[randomInt(LETTERS.length)]
    const token = `${prefix}.${index}`
    this.tokens.set(token, { user, expiresAt: this.now() + this.ttlMs })
    return token
  }

  /** The token's user, or undefined for a token that is unknown or expired; a use renews it. */
  info(token: string, use = true): { user: string } | undefined {
    const held = this.tokens.get(token)
    if (!held) return undefined
    const now = this.now()
    if (held.expiresAt <= now) {
      this.tokens.delete(token)
      return undefined
    }
    if (use) held.expiresAt = now + this.ttlMs
    return { user: held.user }
  }

  expiresAt(token: string): number | undefined {
    const held = this.tokens.get(token)
    return held && held.expiresAt > this.now() ? held.expiresAt : undefined
  }

  /** Forgets the tokens that expired unused (they would be refused anyway). */
  private sweep(): void {
    const now = this.now()
    for (const [token, held] of this.tokens) if (held.expiresAt <= now) this.tokens.delete(token)
  }

  invalidateUser(user: string): void {
    for (const [token, held] of this.tokens) if (held.user === user) this.tokens.delete(token)
  }

  clear(): void {
    this.tokens.clear()
  }
}
