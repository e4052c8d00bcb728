/**
 * etcd's --auth-token flag: `simple` (the default), or
 * `jwt,pub-key=<file>,priv-key=<file>,sign-method=<RS256|…|ES512|HS256|…>,ttl=<duration>` (ttl 5m by default).
 * RS and PS take RSA keys, ES ECDSA keys (P-256, P-384, P-521 for ES256, ES384, ES512), HS the
 * priv-key file's bytes as the shared secret. The public key may be a certificate (`etcdgw certs`
 * writes key and certificate pairs). Without priv-key a server only verifies tokens.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parseDuration } from '../../pki/duration.js'
import { type JwtOptions, SIGN_METHODS, type SignMethod } from './jwt-tokens.js'

export type AuthTokenConfig = { kind: 'simple' } | ({ kind: 'jwt' } & JwtOptions)

/** etcd's default JWT ttl. */
const DEFAULT_JWT_TTL_MS = 5 * 60_000

const CURVES: Partial<Record<SignMethod, string>> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' }

/** Throws an Error naming what is wrong with the flag's value. */
export function parseAuthToken(value: string): AuthTokenConfig {
  const [kind, ...options] = value.split(',')
  if (kind === 'simple' && options.length === 0) return { kind: 'simple' }
  if (kind !== 'jwt') throw new Error(`--auth-token must be "simple" or "jwt,…", not ${JSON.stringify(value)}`)
  const given = new Map<string, string>()
  for (const option of options) {
    const at = option.indexOf('=')
    const name = at < 0 ? option : option.slice(0, at)
    if (!['pub-key', 'priv-key', 'sign-method', 'ttl'].includes(name) || at < 0) {
      throw new Error(`--auth-token jwt: unknown option ${JSON.stringify(option)} (pub-key, priv-key, sign-method, ttl)`)
    }
    given.set(name, option.slice(at + 1))
  }
  const signMethod = given.get('sign-method') as SignMethod | undefined
  if (!signMethod || !SIGN_METHODS.includes(signMethod)) {
    throw new Error(`--auth-token jwt: sign-method must be one of ${SIGN_METHODS.join(', ')}`)
  }
  const ttl = given.get('ttl')
  const ttlMs = ttl === undefined ? DEFAULT_JWT_TTL_MS : parseDuration(ttl)
  if (!(ttlMs > 0)) throw new Error('--auth-token jwt: ttl must be a positive duration')
  const privFile = given.get('priv-key')
  const pubFile = given.get('pub-key')
  if (signMethod.startsWith('HS')) {
    if (!privFile) throw new Error(`--auth-token jwt: ${signMethod} needs priv-key (the shared secret's file)`)
    return { kind: 'jwt', signMethod, ttlMs, privateKey: readFileSync(privFile) }
  }
  if (!pubFile) throw new Error(`--auth-token jwt: ${signMethod} needs pub-key`)
  const publicKey = checked(signMethod, createPublicKey(readFileSync(pubFile)), `pub-key ${pubFile}`)
  const privateKey = privFile === undefined ? undefined : checked(signMethod, createPrivateKey(readFileSync(privFile)), `priv-key ${privFile}`)
  return { kind: 'jwt', signMethod, ttlMs, publicKey, ...(privateKey ? { privateKey } : {}) }
}

function checked(method: SignMethod, key: KeyObject, what: string): KeyObject {
  const curve = CURVES[method]
  const fits = curve
    ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === curve
    : key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss'
  if (!fits) throw new Error(`--auth-token jwt: ${what} is not a key for ${method} (${curve ? `ECDSA ${curve}` : 'RSA'})`)
  return key
}
