import { createPrivateKey, generateKeyPair } from 'node:crypto'
import { promisify } from 'node:util'
import forge from 'node-forge'

/** kubeadm's RSA choices (v1beta4 `encryptionAlgorithm` RSA-2048 | RSA-3072 | RSA-4096). */
export const KEY_SIZES = [2048, 3072, 4096] as const
export type KeySize = (typeof KEY_SIZES)[number]
export const DEFAULT_KEY_SIZE: KeySize = 2048

export function parseKeySize(text: string | number): KeySize {
  const bits = Number(text)
  if (!(KEY_SIZES as readonly number[]).includes(bits)) throw new Error(`key size must be one of ${KEY_SIZES.join(', ')}, got ${text}`)
  return bits as KeySize
}

const generateRsa = promisify(generateKeyPair)

/** A new RSA key (e = 65537) from Node's native generator: ~10x faster than forge's JavaScript one. */
export async function generateKey(bits: KeySize): Promise<forge.pki.rsa.PrivateKey> {
  const { privateKey } = await generateRsa('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  })
  return forge.pki.privateKeyFromPem(privateKey)
}

/** PKCS#1 `RSA PRIVATE KEY`, the form client-go's `MarshalPrivateKeyToPEM` writes for RSA keys. */
export function keyToPem(key: forge.pki.rsa.PrivateKey): string {
  return forge.pki.privateKeyToPem(key).replace(/\r\n/g, '\n')
}

/** Accepts PKCS#1 and PKCS#8 PEM; anything but RSA is refused with the reason. */
export function keyFromPem(pem: string): forge.pki.rsa.PrivateKey {
  const key = createPrivateKey(pem)
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${key.asymmetricKeyType} keys are not supported (RSA only)`)
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string)
}

export function keyBits(key: forge.pki.rsa.PrivateKey): number {
  return key.n.bitLength()
}
