import { createPrivateKey, createPublicKey, generateKeyPair, webcrypto, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'

/**
 * Key types by kubeadm's names (v1beta4 `encryptionAlgorithm`) plus ED25519 (as cert-manager offers). Keys are
 * Node KeyObjects; on disk they take the PEM form client-go's `MarshalPrivateKeyToPEM` writes: RSA as PKCS#1
 * `RSA PRIVATE KEY`, ECDSA as SEC1 `EC PRIVATE KEY`, Ed25519 as PKCS#8 `PRIVATE KEY`.
 */
export const KEY_TYPES = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384', 'ED25519'] as const
export type KeyType = (typeof KEY_TYPES)[number]
export const DEFAULT_KEY_TYPE: KeyType = 'RSA-2048'

export function parseKeyType(text: string): KeyType {
  const type = KEY_TYPES.find((t) => t === text.toUpperCase())
  if (!type) throw new Error(`key type must be one of ${KEY_TYPES.join(', ')}, got "${text}"`)
  return type
}

const generate = promisify(generateKeyPair)

export async function generateKey(type: KeyType): Promise<KeyObject> {
  switch (type) {
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      return (await generate('rsa', { modulusLength: Number(type.slice(4)), publicExponent: 0x10001 })).privateKey
    case 'ECDSA-P256':
      return (await generate('ec', { namedCurve: 'P-256' })).privateKey
    case 'ECDSA-P384':
      return (await generate('ec', { namedCurve: 'P-384' })).privateKey
    case 'ED25519':
      return (await generate('ed25519', {})).privateKey
  }
}

/** The type of a key (private or public); undefined for keys no profile allows (RSA of another size, other curves). */
export function keyTypeOf(key: KeyObject): KeyType | undefined {
  const details = key.asymmetricKeyDetails
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return KEY_TYPES.find((t) => t === `RSA-${details?.modulusLength}`)
    case 'ec':
      return details?.namedCurve === 'prime256v1' ? 'ECDSA-P256' : details?.namedCurve === 'secp384r1' ? 'ECDSA-P384' : undefined
    case 'ed25519':
      return 'ED25519'
    default:
      return undefined
  }
}

/** "RSA 1024 bits", "EC secp521r1": how a key no profile allows is named in errors. */
export function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details?.modulusLength} bits`
  if (key.asymmetricKeyType === 'ec') return `EC ${details?.namedCurve}`
  return String(key.asymmetricKeyType)
}

export function keyToPem(key: KeyObject): string {
  const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : key.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs8'
  return key.export({ type, format: 'pem' }) as string
}

/** Accepts PKCS#1, SEC1 and PKCS#8 PEM; a key of no allowed type is refused with what it is. */
export function keyFromPem(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem)
  if (keyTypeOf(key) === undefined) throw new Error(`${describeKey(key)} keys are not supported (${KEY_TYPES.join(', ')})`)
  return key
}

/** The public half in DER SubjectPublicKeyInfo: what a certificate or CSR carries. */
export function publicKeyDer(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' })
}

/** WebCrypto's description of a key's algorithm with the hash it signs with. */
export interface SigningAlgorithm {
  name: 'RSASSA-PKCS1-v1_5' | 'ECDSA' | 'Ed25519'
  hash?: 'SHA-256' | 'SHA-384'
  namedCurve?: 'P-256' | 'P-384'
}

/**
 * The signature algorithm Go's x509.CreateCertificate picks for a signer key: SHA-256 with RSA and P-256,
 * SHA-384 with P-384, pure Ed25519.
 */
export function signingAlgorithm(key: KeyObject): SigningAlgorithm {
  const type = keyTypeOf(key)
  if (type === 'ECDSA-P256') return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
  if (type === 'ECDSA-P384') return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' }
  if (type === 'ED25519') return { name: 'Ed25519' }
  return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
}

/** The WebCrypto pair of a Node key, for signing with @peculiar/x509. */
export async function cryptoKeys(key: KeyObject): Promise<CryptoKeyPair> {
  const algorithm = signingAlgorithm(key)
  const privateDer = key.export({ type: 'pkcs8', format: 'der' })
  const [privateKey, publicKey] = await Promise.all([
    webcrypto.subtle.importKey('pkcs8', privateDer, algorithm, true, ['sign']),
    webcrypto.subtle.importKey('spki', publicKeyDer(key), algorithm, true, ['verify']),
  ])
  return { privateKey, publicKey } as CryptoKeyPair
}
