export { PkiError } from './errors.js'
export { writeFileAtomic } from './atomic-write.js'
export { formatExpires, parseDuration, shortHumanDuration } from './duration.js'
export * from './profiles.js'
export { DEFAULT_PKI_DIR, filesOf, filesAt, nextCaFiles, type CertFiles } from './layout.js'
export { generateKey, keyToPem, parseKeyType, KEY_TYPES, DEFAULT_KEY_TYPE, type KeyType } from './keys.js'
export { createCA, issueCert, signCert, randomSerialHex, BACKDATE_MS, DEFAULT_CA_VALIDITY_MS, DEFAULT_CERT_VALIDITY_MS, type KeyPair, type IssueOptions } from './issue.js'
export { splitPemCerts, readCert, readCertBundle, readKey, readKeyPair, writeKeyPair, writeCertFile, pemOf, KEY_MODE, CERT_MODE } from './files.js'
export { subjectOf, isSignedBy, isCA, serialOf } from './inspect.js'
export { initPki, type InitOptions, type InitReport, type InitResult } from './init.js'
export { issueMemberCerts, issueClientCert, type IssueFromCaOptions, type IssuedFile } from './issue-member.js'
export { renewCert, LONG_NAMES, RELOAD_ADVICE, type RenewOptions, type RenewResult } from './renew.js'
export { rotationStatus, advanceRotation, ROTATION_ADVICE, type RotationStage, type RotationStatus, type RotationStep } from './rotate-ca.js'
export {
  readExpirationInfo,
  formatExpirationText,
  formatExpirationJson,
  formatExpirationYaml,
  formatExpirationPrometheus,
  needsAttention,
  type ExpirationEntry,
  type ExpirationInfo,
} from './check-expiration.js'
export { verifyPki, verifyCertFile, type VerifyProblem, type VerifyOptions } from './verify.js'
export { x509Sample, X509_LABEL_NAMES, X509_METRICS, type X509Sample, type X509Labels, type X509LabelName } from './x509-metrics.js'
export { auditPki, type AuditFinding } from './audit.js'
export { generateCsrs, type CsrOptions, type CsrFiles } from './csr.js'
export { revokedSerials, normalSerial } from './crl.js'
