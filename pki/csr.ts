import { writeFileAtomic } from './atomic-write.js'
import { PkiError } from './errors.js'
import { CERT_MODE, fileExists, KEY_MODE, pemOf } from './files.js'
import { altNamesOf, EKU_OID, LEAF_KEY_USAGE, nameOf } from './issue.js'
import { cryptoKeys, generateKey, keyToPem, signingAlgorithm, type KeyType } from './keys.js'
import { filesOf } from './layout.js'
import { LEAF_NAMES, leafSubject, type LeafName, type Member } from './profiles.js'
import { x509 } from './x509.js'

export interface CsrOptions {
  dir: string
  member: Member
  keyType: KeyType
}

export interface CsrFiles {
  name: LeafName
  key: string
  csr: string
}

/**
 * `kubeadm certs generate-csr` for the etcd certificates, for an external CA: a new key (0600) and a PKCS#10
 * request (0644) per leaf, `<base>.key` and `<base>.csr` in kubeadm's layout, asking for kubeadm's subject,
 * SANs, key usages and extended key usages. The CA signs them and the certificates go next to the keys as
 * `<base>.crt`; `certs verify` then checks them. An existing key is never overwritten.
 */
export async function generateCsrs(options: CsrOptions): Promise<CsrFiles[]> {
  const written: CsrFiles[] = []
  for (const name of LEAF_NAMES) {
    const { key: keyFile, cert } = filesOf(options.dir, name)
    if (await fileExists(keyFile)) throw new PkiError(keyFile, 'exists; a CSR gets a new key, so move the old key away first')
    const csrFile = cert.replace(/\.crt$/, '.csr')
    const subject = leafSubject(name, options.member)
    const key = await generateKey(options.keyType)
    const extensions: x509.Extension[] = [
      new x509.KeyUsagesExtension(LEAF_KEY_USAGE, true),
      new x509.ExtendedKeyUsageExtension(subject.usages.map((u) => EKU_OID[u]), false),
    ]
    const altNames = altNamesOf(subject)
    if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames))
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: nameOf(subject.commonName, subject.organization),
      keys: await cryptoKeys(key),
      signingAlgorithm: signingAlgorithm(key),
      extensions,
    })
    await writeFileAtomic(keyFile, keyToPem(key), KEY_MODE)
    await writeFileAtomic(csrFile, pemOf(csr), CERT_MODE)
    written.push({ name, key: keyFile, csr: csrFile })
  }
  return written
}
