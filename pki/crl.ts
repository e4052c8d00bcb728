import { x509 } from './x509.js'

/**
 * The serials a CRL (PEM or DER) revokes, as etcd's `--client-crl-file` uses it: by serial alone, without
 * checking who signed the list (etcd's checkCRL). Serials are upper-case hex without leading zeros.
 */
export function revokedSerials(data: Buffer): Set<string> {
  const text = data.toString('latin1')
  const crl = new x509.X509Crl(text.includes('-----BEGIN X509 CRL-----') ? text : Uint8Array.from(data).buffer)
  return new Set(crl.entries.map((entry) => normalSerial(entry.serialNumber)))
}

export function normalSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '')
}
