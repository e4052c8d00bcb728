/**
 * Who can read or replace the etcd keys, and whether the keys and signatures are strong enough: the audit
 * `certs verify` adds to its certificate checks. Every finding names its file and the command that fixes it.
 */
import { createPrivateKey } from 'node:crypto'
import { lstat, readFile, realpath, stat } from 'node:fs/promises'
import { dirname, relative, resolve, sep } from 'node:path'
import { splitPemCerts } from './files.js'
import { filesOf } from './layout.js'
import { CA_NAME, LEAF_NAMES, type LeafName } from './profiles.js'
import { x509 } from './x509.js'

export interface AuditFinding {
  severity: 'critical' | 'warning'
  file: string
  problem: string
  /** the shell command that removes the finding */
  fix: string
}

const MIN_RSA_BITS = 2048

export async function auditPki(dir: string): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = []
  const root = await realpath(dir)
  const uid = process.getuid?.()
  for (const name of [CA_NAME, ...LEAF_NAMES] as const) {
    const files = filesOf(dir, name)
    for (const [kind, file] of [['key', files.key], ['cert', files.cert]] as const) {
      const link = await lstat(file).catch(() => undefined)
      if (!link) continue
      if (link.isSymbolicLink()) {
        const target = await realpath(file).catch(() => undefined)
        if (target === undefined || !isInside(root, target)) {
          findings.push({ severity: 'warning', file, problem: `is a symbolic link to ${target ?? 'a missing file'}, outside ${dir}`, fix: target ? `cp --remove-destination ${quote(target)} ${quote(file)}` : `rm ${quote(file)}` })
        }
      }
      const info = await stat(file).catch(() => undefined)
      if (!info) continue
      const mode = info.mode & 0o777
      if (kind === 'key') {
        if (name === CA_NAME && mode & 0o044) findings.push({ severity: 'critical', file, problem: `the CA key is readable by ${readers(mode)} (mode ${octal(mode)})`, fix: `chmod 600 ${quote(file)}` })
        else if (mode & 0o077) findings.push({ severity: name === CA_NAME || mode & 0o044 ? 'critical' : 'warning', file, problem: `private key has mode ${octal(mode)}, not 0600`, fix: `chmod 600 ${quote(file)}` })
        if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
          findings.push({ severity: 'critical', file, problem: `private key is owned by uid ${info.uid}, neither this user (uid ${uid}) nor root`, fix: `chown ${uid}:${process.getgid?.() ?? uid} ${quote(file)}` })
        }
        findings.push(...(await keyStrength(file, name, dir)))
      } else {
        if (mode & 0o022) findings.push({ severity: 'critical', file, problem: `certificate is writable by ${mode & 0o002 ? 'everyone' : 'its group'} (mode ${octal(mode)})`, fix: `chmod 644 ${quote(file)}` })
        findings.push(...(await signatureStrength(file, name, dir)))
      }
    }
  }
  findings.push(...(await writableDirectories([dir, dirname(filesOf(dir, 'etcd-server').cert)])))
  return findings
}

/** A world-writable directory lets anyone replace the files below it; the sticky bit (as on /tmp) prevents that. */
async function writableDirectories(dirs: string[]): Promise<AuditFinding[]> {
  const seen = new Set<string>()
  const findings: AuditFinding[] = []
  for (const start of dirs) {
    for (let dir = resolve(start); !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir)
      const info = await stat(dir).catch(() => undefined)
      if (info && info.mode & 0o002 && !(info.mode & 0o1000)) {
        findings.push({ severity: 'critical', file: dir, problem: `directory on the path to the keys is world-writable (mode ${octal(info.mode & 0o7777)}): anyone can replace the files below it`, fix: `chmod o-w ${quote(dir)}` })
      }
    }
  }
  return findings
}

async function keyStrength(file: string, name: LeafName | typeof CA_NAME, dir: string): Promise<AuditFinding[]> {
  const key = await readFile(file).then((pem) => createPrivateKey(pem)).catch(() => undefined)
  const bits = key?.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined
  if (bits === undefined || bits >= MIN_RSA_BITS) return []
  return [{ severity: 'critical', file, problem: `weak key: RSA ${bits} bits (at least ${MIN_RSA_BITS})`, fix: replaceCommand(name, dir) }]
}

async function signatureStrength(file: string, name: LeafName | typeof CA_NAME, dir: string): Promise<AuditFinding[]> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const findings: AuditFinding[] = []
  for (const [i, pem] of splitPemCerts(text).entries()) {
    let cert: x509.X509Certificate
    try {
      cert = new x509.X509Certificate(pem)
    } catch {
      continue // unparsable certificates are reported by the certificate checks
    }
    if (signedWithSha1(cert)) {
      const which = i === 0 ? '' : ` (certificate ${i + 1} of the bundle)`
      // an old CA further down a rotation bundle goes away with the rotation's last stage
      const fix = i === 0 ? replaceCommand(name, dir) : `etcdgw certs rotate-ca --dir ${quote(dir)}`
      findings.push({ severity: 'critical', file, problem: `SHA-1 signature${which}: Go and OpenSSL reject it`, fix })
    }
  }
  return findings
}

/** sha1WithRSAEncryption, ecdsa-with-SHA1: the library names them by their WebCrypto algorithm and hash. */
function signedWithSha1(cert: x509.X509Certificate): boolean {
  return (cert.signatureAlgorithm as { hash?: { name?: string } }).hash?.name === 'SHA-1'
}

function replaceCommand(name: LeafName | typeof CA_NAME, dir: string): string {
  return name === CA_NAME ? `etcdgw certs rotate-ca --dir ${quote(dir)} --key-type RSA-2048` : `etcdgw certs renew ${name} --dir ${quote(dir)} --key-type RSA-2048`
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep)
}

function readers(mode: number): string {
  return [mode & 0o040 ? 'its group' : '', mode & 0o004 ? 'everyone' : ''].filter(Boolean).join(' and ')
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`

/** Single-quoted for a POSIX shell unless nothing needs quoting. */
function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`
}
