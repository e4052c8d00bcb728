import { execFileSync, execSync } from 'node:child_process'
import { chmod, chown, copyFile, mkdir, rename, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { auditPki, type AuditFinding } from '../../pki/index.js'
import { certsCli } from './cli-runner.js'
import { currentPki, freshPki, tempDir } from './fixture.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

t.test('a fresh tree has no audit findings', async (t) => {
  const dir = await currentPki(t)
  t.same(await auditPki(dir), [])
  const r = await certsCli('verify', '--dir', dir, '-o', 'json')
  t.equal(r.code, 0)
  t.same(JSON.parse(r.stdout), { problems: [], findings: [] })
})

t.test('the audit finds each planted problem, and each fix command removes its finding', async (t) => {
  const dir = await currentPki(t)
  const outside = await tempDir(t)
  const file = (p: string) => join(dir, p)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' })

  await chmod(file('etcd/ca.key'), 0o644)
  await chmod(file('etcd/server.key'), 0o640)
  await chmod(file('apiserver-etcd-client.crt'), 0o666)
  await chown(file('etcd/peer.key'), 4321, 4321)
  // the healthcheck client signed for a 1024-bit RSA key, and with SHA-1, by the CA on disk
  openssl('req', '-new', '-newkey', 'rsa:1024', '-nodes', '-keyout', file('etcd/healthcheck-client.key'), '-out', join(outside, 'weak.csr'), '-subj', '/CN=kube-etcd-healthcheck-client')
  await writeFile(join(outside, 'client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n')
  openssl('x509', '-req', '-in', join(outside, 'weak.csr'), '-CA', file('etcd/ca.crt'), '-CAkey', file('etcd/ca.key'), '-set_serial', '7', '-days', '30', '-sha1', '-extfile', join(outside, 'client.ext'), '-out', file('etcd/healthcheck-client.crt'))
  // the peer certificate a link to a file elsewhere
  await copyFile(file('etcd/peer.crt'), join(outside, 'peer.crt'))
  await rename(file('etcd/peer.crt'), join(outside, 'unused.crt'))
  await symlink(join(outside, 'peer.crt'), file('etcd/peer.crt'))
  await chmod(file('etcd'), 0o777)

  const r = await certsCli('verify', '--dir', dir, '-o', 'json')
  t.equal(r.code, 1)
  const { findings } = JSON.parse(r.stdout) as { findings: AuditFinding[] }
  const q = (p: string) => file(p)
  t.same(
    findings.map((f) => [f.severity, f.file, f.problem, f.fix]),
    [
      ['critical', q('etcd/ca.key'), 'the CA key is readable by its group and everyone (mode 0644)', `chmod 600 ${q('etcd/ca.key')}`],
      ['critical', q('apiserver-etcd-client.crt'), 'certificate is writable by everyone (mode 0666)', `chmod 644 ${q('apiserver-etcd-client.crt')}`],
      ['critical', q('etcd/healthcheck-client.key'), 'weak key: RSA 1024 bits (at least 2048)', `etcdgw certs renew etcd-healthcheck-client --dir ${dir} --key-type RSA-2048`],
      ['critical', q('etcd/healthcheck-client.crt'), 'SHA-1 signature: Go and OpenSSL reject it', `etcdgw certs renew etcd-healthcheck-client --dir ${dir} --key-type RSA-2048`],
      ['critical', q('etcd/peer.key'), `private key is owned by uid 4321, neither this user (uid ${process.getuid!()}) nor root`, `chown ${process.getuid!()}:${process.getgid!()} ${q('etcd/peer.key')}`],
      ['warning', q('etcd/peer.crt'), `is a symbolic link to ${join(outside, 'peer.crt')}, outside ${dir}`, `cp --remove-destination ${join(outside, 'peer.crt')} ${q('etcd/peer.crt')}`],
      ['critical', q('etcd/server.key'), 'private key has mode 0640, not 0600', `chmod 600 ${q('etcd/server.key')}`],
      ['critical', q('etcd'), 'directory on the path to the keys is world-writable (mode 0777): anyone can replace the files below it', `chmod o-w ${q('etcd')}`],
    ],
  )
  const text = await certsCli('verify', '--dir', dir)
  t.match(text.stderr, `[critical] ${q('etcd/ca.key')}: the CA key is readable by its group and everyone (mode 0644)\n  fix: chmod 600 ${q('etcd/ca.key')}\n`)

  // the fixes, run as printed (etcdgw being this build)
  for (const fix of new Set(findings.map((f) => f.fix))) {
    execSync(fix.replace(/^etcdgw /, `"${process.execPath}" "${MAIN}" `), { stdio: 'pipe' })
  }
  t.same(await auditPki(dir), [], 'no finding left after the fixes')
  const verified = await certsCli('verify', '--dir', dir)
  t.equal(verified.code, 0, 'and the tree verifies', { stderr: verified.stderr })
})

t.test('an old SHA-1 CA further down a rotation bundle is fixed by finishing the rotation', async (t) => {
  const dir = await freshPki(t)
  const old = await tempDir(t)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-sha1', '-nodes', '-keyout', join(old, 'ca.key'), '-out', join(old, 'ca.crt'), '-days', '30', '-subj', '/CN=etcd-ca'], { stdio: 'ignore' })
  execSync(`cat "${join(old, 'ca.crt')}" >> "${join(dir, 'etcd/ca.crt')}"`)
  t.same((await auditPki(dir)).map((f) => [f.problem, f.fix]), [['SHA-1 signature (certificate 2 of the bundle): Go and OpenSSL reject it', `etcdgw certs rotate-ca --dir ${dir}`]])
})

t.test('a world-writable directory with the sticky bit (like /tmp) is no finding', async (t) => {
  const dir = await freshPki(t)
  await mkdir(join(dir, 'shared'))
  await chmod(dir, 0o1777)
  t.same(await auditPki(dir), [])
})
