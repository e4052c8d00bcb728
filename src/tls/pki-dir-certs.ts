/**
 * serve --pki-dir: the certificates of a kubeadm-layout PKI directory (what `etcdgw certs` writes: the etcd
 * CA, a CA rotation's next CA, the member, peer and client certificates) in the expiry gauges beside the
 * ones the gateway itself uses, read afresh at every scrape so that renewals show at once. Files that are
 * not there are left out: a directory holds only the certificates of its own member (`etcdgw certs
 * check-expiration` and `verify` report what is missing or broken).
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { CA_NAME, filesOf, LEAF_NAMES, nextCaFiles, splitPemCerts } from '../../pki/index.js'
import { type CertInUse, expiryWarnings, trackCertificates } from './cert-expiry.js'

/** Lists the directory's certificates in the gauges from now on; warns once of those near or past their end. */
export function trackPkiDirectory(dir: string, log: { warn(obj: object, msg: string): void }): void {
  trackCertificates(() => pkiDirCertificates(dir))
  for (const warning of expiryWarnings(pkiDirCertificates(dir), new Date())) log.warn({}, warning)
}

function pkiDirCertificates(dir: string): CertInUse[] {
  const files = [filesOf(dir, CA_NAME).cert, nextCaFiles(dir).cert, ...LEAF_NAMES.map((name) => filesOf(dir, name).cert)]
  const certs: CertInUse[] = []
  for (const file of files) {
    let found: CertInUse[]
    try {
      found = splitPemCerts(readFileSync(file, 'latin1')).map((pem) => ({ role: 'pki', file, cert: new X509Certificate(pem) }))
    } catch {
      // absent, or caught half-written by a renewal (which writes a temporary file and renames it)
      continue
    }
    certs.push(...found)
  }
  return certs
}
