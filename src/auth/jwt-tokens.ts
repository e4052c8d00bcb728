/**
 * etcd's JWT tokens (auth/jwt.go): signed claims {exp, revision, username}, valid until `exp` on any
 * member that has the public key; nothing is kept. A password change or a permission change leaves a
 * token valid but stale: etcd (and etcdgw) then refuse its requests with "revision of auth store is old".
 */
import { constants, createHmac, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto'
import type { TokenProvider } from './tokens.js'

/** etcd 3.4's sign methods. */
export const SIGN_METHODS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'] as const
export type SignMethod = (typeof SIGN_METHODS)[number]

export interface JwtOptions {
  signMethod: SignMethod
  /** RS, PS and ES: the key that signs (without one the server only verifies); HS: the shared secret. */
  privateKey?: KeyObject | Buffer
  /** RS, PS and ES: the key that verifies. */
  publicKey?: KeyObject
  ttlMs: number
}

interface Claims {
  exp: number
  revision: number
  username: string
}

const base64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

export class JwtTokens implements TokenProvider {
  private readonly header: string
  private readonly hash: string

  constructor(
    private readonly opts: JwtOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.header = base64url(JSON.stringify({ alg: opts.signMethod, typ: 'JWT' }))
    this.hash = `sha${opts.signMethod.slice(2)}`
  }

  async assign(user: string, revision: number): Promise<string> {
    const claims: Claims = { exp: Math.floor((this.now() + this.opts.ttlMs) / 1000), revision, username: user }
    const signed = `${this.header}.${base64url(JSON.stringify(claims))}`
    return `${signed}.${base64url(this.sign(Buffer.from(signed)))}`
  }

  info(token: string): { user: string; revision: number } | undefined {
    const claims = this.verified(token)
    return claims && { user: claims.username, revision: claims.revision }
  }

  expiresAt(token: string): number | undefined {
    const claims = this.verified(token)
    return claims && claims.exp * 1000
  }

  /** JWT tokens are not kept: nothing to end (their revision goes stale instead). */
  invalidateUser(): void {}

  clear(): void {}

  private verified(token: string): Claims | undefined {
    const parts = token.split('.')
    if (parts.length !== 3) return undefined
    const [header, payload, signature] = parts as [string, string, string]
    // only the configured method: a token cannot choose how it is checked
    if (header !== this.header) return undefined
    if (!this.verifies(Buffer.from(`${header}.${payload}`), Buffer.from(signature, 'base64url'))) return undefined
    let claims: Partial<Claims>
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<Claims>
    } catch {
      return undefined
    }
    const { exp, revision, username } = claims
    if (typeof exp !== 'number' || typeof revision !== 'number' || typeof username !== 'string') return undefined
    if (exp * 1000 <= this.now()) return undefined
    return { exp, revision, username }
  }

  private sign(data: Buffer): Buffer {
    const { signMethod, privateKey } = this.opts
    if (!privateKey) throw new Error('--auth-token jwt has no priv-key: this server only verifies tokens')
    if (signMethod.startsWith('HS')) return createHmac(this.hash, privateKey as Buffer).update(data).digest()
    return sign(this.hash, data, { key: privateKey as KeyObject, ...this.keyOptions(true) })
  }

  private verifies(data: Buffer, signature: Buffer): boolean {
    const { signMethod, privateKey, publicKey } = this.opts
    if (signMethod.startsWith('HS')) {
      const expected = createHmac(this.hash, privateKey as Buffer).update(data).digest()
      return expected.length === signature.length && timingSafeEqual(expected, signature)
    }
    try {
      return verify(this.hash, data, { key: publicKey!, ...this.keyOptions(false) }, signature)
    } catch {
      return false
    }
  }

  private keyOptions(signing: boolean) {
    const method = this.opts.signMethod
    if (method.startsWith('PS')) {
      const saltLength = signing ? constants.RSA_PSS_SALTLEN_DIGEST : constants.RSA_PSS_SALTLEN_AUTO
      return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }
    }
    if (method.startsWith('ES')) return { dsaEncoding: 'ieee-p1363' as const }
    return { padding: constants.RSA_PKCS1_PADDING }
  }
}
