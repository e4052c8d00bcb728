import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import t from 'tap'
import { formatExpirationJson, formatExpirationText, formatExpirationYaml, needsAttention, parseDuration, readExpirationInfo, shortHumanDuration, splitPemCerts } from '../../pki/index.js'
import { certsCli } from './cli-runner.js'
import { currentPki, freshPki, NOW, tempDir } from './fixture.js'

// Certificates made at NOW (2026-01-15T10:20:30.500Z, truncated to :30): leaves expire 2027-01-15T10:20:30Z, etcd-ca 2036-01-13T10:20:30Z.
const LEAF_EXPIRY = Date.UTC(2027, 0, 15, 10, 20, 30)
const at = (ms: number) => new Date(ms)
/** With a !MISSING! etcd-healthcheck-client row (33 characters) the first column is 33 + 3 wide. */
const c0 = (cell: string) => cell.padEnd(36)

t.test('ShortHumanDuration boundaries', async (t) => {
  const cases: Array<[number, string]> = [
    [-2000, '<invalid>'], [-1999, '0s'], [-1, '0s'], [0, '0s'], [59_999, '59s'], [60_000, '1m'], [3_599_999, '59m'],
    [3_600_000, '1h'], [86_399_999, '23h'], [86_400_000, '1d'], [365 * 86_400_000 - 1, '364d'], [365 * 86_400_000, '1y'],
    [3650 * 86_400_000 - 60_000, '9y'],
  ]
  for (const [ms, text] of cases) t.equal(shortHumanDuration(ms), text, `${ms} ms`)
  t.equal(parseDuration('30d'), 30 * 86_400_000)
  t.equal(parseDuration('1h30m'), 5_400_000)
  t.equal(parseDuration('8760h'), 365 * 86_400_000)
  t.equal(parseDuration('1.5h'), 5_400_000, 'fractions')
  t.equal(parseDuration('.5s'), 500)
  t.equal(parseDuration('1m30s500ms'), 90_500)
  t.equal(parseDuration('1500us'), 2, 'microseconds, rounded to whole milliseconds')
  t.equal(parseDuration('0'), 0, 'a bare 0, as Go allows')
  for (const bad of ['3 days', '', '10', '-1s', '1h ', 'h', '1y']) t.throws(() => parseDuration(bad), /invalid duration/, `"${bad}" refused`)
})

t.test('valid: golden text, JSON and YAML one minute after issuance', async (t) => {
  const dir = await freshPki(t)
  const now = at(NOW.getTime() + 60_000)
  const info = await readExpirationInfo(dir, now)
  t.equal(
    formatExpirationText(info, now),
    `CERTIFICATE               EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
apiserver-etcd-client     Jan 15, 2027 10:20 UTC   364d            etcd-ca                 no      
etcd-healthcheck-client   Jan 15, 2027 10:20 UTC   364d            etcd-ca                 no      
etcd-peer                 Jan 15, 2027 10:20 UTC   364d            etcd-ca                 no      
etcd-server               Jan 15, 2027 10:20 UTC   364d            etcd-ca                 no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
etcd-ca                 Jan 13, 2036 10:20 UTC   9y              no      
`,
  )
  const leaf = (name: string) => `        {
            "name": "${name}",
            "expirationDate": "2027-01-15T10:20:30Z",
            "residualTime": 31535939,
            "externallyManaged": false,
            "caName": "etcd-ca",
            "missing": false
        }`
  t.equal(
    formatExpirationJson(info),
    `{
    "kind": "CertificateExpirationInfo",
    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
    "certificates": [
${['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server'].map(leaf).join(',\n')}
    ],
    "certificateAuthorities": [
        {
            "name": "etcd-ca",
            "expirationDate": "2036-01-13T10:20:30Z",
            "residualTime": 315359939,
            "externallyManaged": false,
            "missing": false
        }
    ]
}
`,
  )
  const yamlLeaf = (name: string) => `- caName: etcd-ca
  expirationDate: "2027-01-15T10:20:30Z"
  externallyManaged: false
  missing: false
  name: ${name}
  residualTime: 31535939
`
  t.equal(
    formatExpirationYaml(info),
    `apiVersion: output.kubeadm.k8s.io/v1alpha3
certificateAuthorities:
- expirationDate: "2036-01-13T10:20:30Z"
  externallyManaged: false
  missing: false
  name: etcd-ca
  residualTime: 315359939
certificates:
${['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server'].map(yamlLeaf).join('')}kind: CertificateExpirationInfo
`,
  )
  t.same(needsAttention(info, parseDuration('30d')), [], 'nothing to report with --warn 30d')
})

t.test('near expiry: 10 days left is reported by --warn 30d but not by --warn 7d', async (t) => {
  const dir = await freshPki(t)
  const now = at(LEAF_EXPIRY - 10 * 86_400_000 - 3_600_000)
  const info = await readExpirationInfo(dir, now)
  t.equal(
    formatExpirationText(info, now),
    `CERTIFICATE               EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
apiserver-etcd-client     Jan 15, 2027 10:20 UTC   10d             etcd-ca                 no      
etcd-healthcheck-client   Jan 15, 2027 10:20 UTC   10d             etcd-ca                 no      
etcd-peer                 Jan 15, 2027 10:20 UTC   10d             etcd-ca                 no      
etcd-server               Jan 15, 2027 10:20 UTC   10d             etcd-ca                 no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
etcd-ca                 Jan 13, 2036 10:20 UTC   9y              no      
`,
  )
  t.same(needsAttention(info, parseDuration('30d')).map((e) => e.name), ['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server'])
  t.same(needsAttention(info, parseDuration('7d')), [])
})

t.test('expired and missing: <invalid>, !MISSING!, negative residualTime, missing entry without caName', async (t) => {
  const dir = await freshPki(t)
  await rm(join(dir, 'etcd/healthcheck-client.crt'))
  const now = at(LEAF_EXPIRY + 86_400_000)
  const info = await readExpirationInfo(dir, now)
  const blank = ' '.repeat(25 + 16 + 24)
  t.equal(
    formatExpirationText(info, now),
    `${c0('CERTIFICATE')}EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
${c0('apiserver-etcd-client')}Jan 15, 2027 10:20 UTC   <invalid>       etcd-ca                 no      
!MISSING! etcd-healthcheck-client   ${blank}
${c0('etcd-peer')}Jan 15, 2027 10:20 UTC   <invalid>       etcd-ca                 no      
${c0('etcd-server')}Jan 15, 2027 10:20 UTC   <invalid>       etcd-ca                 no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
etcd-ca                 Jan 13, 2036 10:20 UTC   8y              no      
`,
  )
  const json = JSON.parse(formatExpirationJson(info))
  t.same(json.certificates[0], { name: 'apiserver-etcd-client', expirationDate: '2027-01-15T10:20:30Z', residualTime: -86400, externallyManaged: false, caName: 'etcd-ca', missing: false })
  t.same(json.certificates[1], { name: 'etcd-healthcheck-client', expirationDate: null, residualTime: 0, externallyManaged: false, missing: true })
  t.match(formatExpirationJson(info), /"name": "etcd-healthcheck-client",\n {12}"expirationDate": null,\n {12}"residualTime": 0,\n {12}"externallyManaged": false,\n {12}"missing": true\n/)
  t.same(needsAttention(info, 0).map((e) => e.name), ['apiserver-etcd-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server'])
})

t.test('an empty directory: everything missing, CA row with three tabs', async (t) => {
  const dir = await tempDir(t)
  const info = await readExpirationInfo(dir, NOW)
  t.equal(
    formatExpirationText(info, NOW),
    `${c0('CERTIFICATE')}EXPIRES   RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
${c0('!MISSING! apiserver-etcd-client')}${' '.repeat(10 + 16 + 24)}
${c0('!MISSING! etcd-healthcheck-client')}${' '.repeat(10 + 16 + 24)}
${c0('!MISSING! etcd-peer')}${' '.repeat(10 + 16 + 24)}
${c0('!MISSING! etcd-server')}${' '.repeat(10 + 16 + 24)}

CERTIFICATE AUTHORITY   EXPIRES   RESIDUAL TIME   EXTERNALLY MANAGED
!MISSING! etcd-ca       ${' '.repeat(10 + 16)}
`,
  )
  t.equal(needsAttention(info, 0).length, 5)
})

t.test('-o prometheus: a node-exporter textfile in x509-certificate-exporter\'s metrics, one sample per certificate', async (t) => {
  const dir = await currentPki(t)
  // a rotation bundle: both CAs show up, each with its own serial
  t.equal((await certsCli('rotate-ca', '--dir', dir)).code, 0)
  await rm(join(dir, 'etcd/healthcheck-client.crt'))
  const r = await certsCli('check-expiration', '--dir', dir, '-o', 'prometheus')
  t.equal(r.code, 1, 'a missing certificate still sets the exit status')
  const samples = (files: string[]) =>
    files.flatMap((file) =>
      splitPemCerts(readFileSync(join(dir, file), 'utf8')).map((pem) => {
        const cert = new X509Certificate(pem)
        const labels = `filename="${basename(file)}",filepath="${join(dir, file)}",serial_number="${BigInt(`0x${cert.serialNumber}`)}",issuer_CN="etcd-ca",subject_CN="${/CN=(.*)/.exec(cert.subject)![1]}"`
        return { labels, notBefore: Date.parse(cert.validFrom) / 1000, notAfter: Date.parse(cert.validTo) / 1000 }
      }),
    )
  const present = samples(['etcd/ca.crt', 'apiserver-etcd-client.crt', 'etcd/peer.crt', 'etcd/server.crt'])
  t.equal(present.length, 5, 'two CAs and three leaves')
  t.equal(
    r.stdout,
    '# HELP x509_cert_expired Indicates if the certificate is expired\n# TYPE x509_cert_expired gauge\n' +
      present.map((s) => `x509_cert_expired{${s.labels}} 0\n`).join('') +
      "# HELP x509_cert_not_after Indicates the certificate's not after timestamp\n# TYPE x509_cert_not_after gauge\n" +
      present.map((s) => `x509_cert_not_after{${s.labels}} ${s.notAfter}\n`).join('') +
      "# HELP x509_cert_not_before Indicates the certificate's not before timestamp\n# TYPE x509_cert_not_before gauge\n" +
      present.map((s) => `x509_cert_not_before{${s.labels}} ${s.notBefore}\n`).join('') +
      '# HELP x509_read_errors Indicates the number of read failure(s)\n# TYPE x509_read_errors gauge\nx509_read_errors 1\n',
  )
  // an expired certificate: x509_cert_expired 1
  const expired = await certsCli('renew', 'etcd-server', '--dir', dir, '--cert-validity', '1s')
  t.equal(expired.code, 0)
  await new Promise((resolve) => setTimeout(resolve, 2100))
  t.match((await certsCli('check-expiration', '--dir', dir, '-o', 'prometheus')).stdout, /^x509_cert_expired\{filename="server\.crt",[^}]*subject_CN="node-1"\} 1$/m)
})
