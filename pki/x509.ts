/**
 * The one place @peculiar/x509 is set up: it builds certificates and CSRs and reads the extensions Node's
 * X509Certificate does not expose (key usage bits, basic constraints, SAN lists), on Node's WebCrypto.
 * Keys are Node KeyObjects (keys.ts); signature checks and host matching use Node's X509Certificate.
 */
import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

export { x509 }
export type Certificate = x509.X509Certificate
