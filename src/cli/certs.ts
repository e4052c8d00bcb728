import { hostname } from 'node:os'
import { relative } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import {
  advanceRotation,
  CA_NAME,
  DEFAULT_PKI_DIR,
  formatExpirationJson,
  formatExpirationText,
  formatExpirationYaml,
  initPki,
  isLeafName,
  issueClientCert,
  issueMemberCerts,
  LEAF_NAMES,
  memberAltNames,
  needsAttention,
  parseDuration,
  parseKeySize,
  readExpirationInfo,
  RELOAD_ADVICE,
  renewCert,
  ROTATION_ADVICE,
  rotationStatus,
  shortHumanDuration,
  verifyPki,
  type KeySize,
  type LeafName,
  type Member,
  type RenewResult,
} from '../../pki/index.js'

/** `etcdgw certs …`: kubeadm-compatible etcd certificates (pki/). Failures print one line and exit 1. */
export function registerCertsCommands(program: Command): void {
  const certs = program.command('certs').description('create, issue, check, renew, rotate and verify the etcd certificates (kubeadm layout)')

  certs
    .command('init')
    .description('create etcd-ca, etcd-server, etcd-peer, etcd-healthcheck-client and apiserver-etcd-client as kubeadm does')
    .addOption(dirOption())
    .option('--node-name <name>', 'this member\'s name: CN and DNS SAN of its server and peer certificates', hostname().toLowerCase())
    .requiredOption('--advertise-address <ip>', 'this member\'s IP: IP SAN of its server and peer certificates')
    .option('--server-cert-sans <list>', 'extra SANs (DNS names or IPs) for the server certificate', splitList, [])
    .option('--peer-cert-sans <list>', 'extra SANs (DNS names or IPs) for the peer certificate', splitList, [])
    .addOption(keySizeOption(2048))
    .addOption(certValidityOption())
    .addOption(caValidityOption())
    .option('--force', 'replace existing files instead of keeping them', false)
    .action(run(async (opts: InitFlags) => {
      const member = memberFrom(opts)
      const report = await initPki({ dir: opts.dir, member, keySize: opts.keySize, certValidityMs: opts.certValidity, caValidityMs: opts.caValidity, now: new Date(), force: opts.force })
      for (const san of report.skippedSans) process.stderr.write(`[certs] WARNING: skipping "${san}": neither an IP address nor a DNS name\n`)
      for (const result of report.results) {
        const base = relative(opts.dir, result.file).replace(/\.crt$/, '')
        const what = result.name === CA_NAME ? 'certificate authority' : 'certificate and key'
        const verb = result.action === 'created' ? 'Generating' : 'Using the existing'
        process.stdout.write(`[certs] ${verb} "${base}" ${what}\n`)
        if (result.action === 'created' && (result.name === 'etcd-server' || result.name === 'etcd-peer')) {
          process.stdout.write(`[certs] ${base} serving cert is signed for ${sansSentence(member, result.name)}\n`)
        }
      }
    }))

  const issue = certs.command('issue').description('issue certificates from an existing etcd CA')
  issue
    .command('member')
    .description('server and peer certificates for another etcd member, plus its copy of etcd/ca.crt, into its own directory')
    .addOption(dirOption())
    .requiredOption('--out-dir <dir>', 'the member\'s certificates directory (kubeadm layout)')
    .requiredOption('--node-name <name>', 'the member\'s name')
    .requiredOption('--advertise-address <ip>', 'the member\'s IP address')
    .option('--server-cert-sans <list>', 'extra SANs for the server certificate', splitList, [])
    .option('--peer-cert-sans <list>', 'extra SANs for the peer certificate', splitList, [])
    .addOption(keySizeOption(2048))
    .addOption(certValidityOption())
    .action(run(async (opts: IssueMemberFlags) => {
      const issued = await issueMemberCerts(memberFrom(opts), { dir: opts.dir, outDir: opts.outDir, keySize: opts.keySize, validityMs: opts.certValidity, now: new Date() })
      for (const file of issued) process.stdout.write(`[certs] ${file.name}: ${file.file} (serial ${file.serial})\n`)
    }))
  issue
    .command('client')
    .description('a client certificate (clientAuth) whose CN is the etcd user: <out-dir>/<user>.crt and .key')
    .addOption(dirOption())
    .requiredOption('--user <name>', 'the etcd user (certificate CN)')
    .option('--org <name>', 'an organization (O); repeat for several', collect, [])
    .option('--out-dir <dir>', 'where to write the files (default: --dir)')
    .addOption(keySizeOption(2048))
    .addOption(certValidityOption())
    .action(run(async (opts: IssueClientFlags) => {
      const file = await issueClientCert(opts.user, opts.org, { dir: opts.dir, outDir: opts.outDir ?? opts.dir, keySize: opts.keySize, validityMs: opts.certValidity, now: new Date() })
      process.stdout.write(`[certs] client ${file.name}: ${file.file} (serial ${file.serial})\n`)
    }))

  certs
    .command('check-expiration')
    .description('kubeadm\'s expiry table; exits 1 when a certificate is missing, expired or expires within --warn')
    .addOption(dirOption())
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .option('--warn <duration>', 'exit 1 when something expires within this time', durationArg, parseDuration('30d'))
    .action(run(async (opts: { dir: string; output: 'text' | 'json' | 'yaml'; warn: number }) => {
      const now = new Date()
      const info = await readExpirationInfo(opts.dir, now)
      const formats = { text: () => formatExpirationText(info, now), json: () => formatExpirationJson(info), yaml: () => formatExpirationYaml(info) }
      process.stdout.write(formats[opts.output]())
      const attention = needsAttention(info, opts.warn)
      for (const entry of attention) {
        const why = entry.missing ? 'missing' : entry.residualTime < 0 ? 'expired' : `expires in ${shortHumanDuration(entry.residualTime * 1000)}`
        process.stderr.write(`${entry.name}: ${why}\n`)
      }
      if (attention.length > 0) process.exitCode = 1
    }))

  certs
    .command('renew')
    .description(`renew a certificate with a new key from the CA on disk, keeping its subject, SANs and usages (${LEAF_NAMES.join(', ')}, or all); CAs are never renewed`)
    .argument('<name>', 'certificate name or "all"')
    .addOption(dirOption())
    .addOption(certValidityOption())
    .addOption(keySizeOption())
    .action(run(async (name: string, opts: { dir: string; certValidity: number; keySize?: KeySize }) => {
      if (name !== 'all' && !isLeafName(name)) throw new Error(`unknown certificate "${name}" (one of ${LEAF_NAMES.join(', ')}, all; ${CA_NAME} is never renewed)`)
      const names: readonly LeafName[] = name === 'all' ? LEAF_NAMES : [name as LeafName]
      const options = { dir: opts.dir, validityMs: opts.certValidity, now: new Date(), ...(opts.keySize ? { keySize: opts.keySize } : {}) }
      const results: RenewResult[] = []
      for (const leaf of names) {
        const result = await renewCert(leaf, options)
        results.push(result)
        if (result.status === 'missing') process.stdout.write(`MISSING! ${result.name} (${result.file})\n`)
        else process.stdout.write(`${result.name} renewed (serial ${result.serial}): ${RELOAD_ADVICE[result.name]}\n`)
      }
      if (results.some((r) => r.status === 'renewed')) {
        process.stdout.write('\nDone renewing certificates. Renew on every member: server and peer certificates are per node, never copy them.\n')
      }
    }))

  certs
    .command('rotate-ca')
    .description('rotate etcd-ca in stages (trust old+new, re-issue leaves, drop the old CA); each call runs the next stage, "status" shows it')
    .argument('[action]', '"status" to show the stage without changing anything')
    .addOption(dirOption())
    .addOption(keySizeOption())
    .addOption(caValidityOption())
    .addOption(certValidityOption())
    .action(run(async (action: string | undefined, opts: { dir: string; keySize?: KeySize; caValidity: number; certValidity: number }) => {
      if (action !== undefined && action !== 'status') throw new Error(`unknown rotate-ca action "${action}" (only "status")`)
      if (action === 'status') {
        const status = await rotationStatus(opts.dir)
        process.stdout.write(`stage: ${status.stage}\ntrusted CAs (signer first): ${status.trustedSerials.join(', ')}\n`)
        for (const leaf of status.leaves) process.stdout.write(`${leaf.name}: ${leaf.signer === 'current' ? 'signed by the current signer' : leaf.signer === 'previous' ? 'signed by an older CA' : 'missing'}\n`)
        return
      }
      const step = await advanceRotation({ dir: opts.dir, now: new Date(), caValidityMs: opts.caValidity, certValidityMs: opts.certValidity, ...(opts.keySize ? { keySize: opts.keySize } : {}) })
      process.stdout.write(`rotate-ca: ${step.from} -> ${step.to}\n`)
      for (const file of step.written) process.stdout.write(`  wrote ${file}\n`)
      process.stdout.write(`${ROTATION_ADVICE[step.to]}\n`)
    }))

  certs
    .command('verify')
    .description('check chain, key, usages, SANs and validity of every certificate; exits 1 on any problem')
    .addOption(dirOption())
    .option('--host <name>', 'a DNS name the server and peer certificates must cover')
    .option('--ip <address>', 'an IP address the server and peer certificates must cover')
    .action(run(async (opts: { dir: string; host?: string; ip?: string }) => {
      const problems = await verifyPki({ dir: opts.dir, now: new Date(), ...(opts.host ? { host: opts.host } : {}), ...(opts.ip ? { ip: opts.ip } : {}) })
      for (const problem of problems) process.stderr.write(`${problem.file}: ${problem.reason}\n`)
      if (problems.length > 0) process.exitCode = 1
      else process.stdout.write(`${opts.dir}: all certificates verified\n`)
    }))
}

interface MemberFlags {
  nodeName: string
  advertiseAddress: string
  serverCertSans: string[]
  peerCertSans: string[]
}
interface InitFlags extends MemberFlags {
  dir: string
  keySize: KeySize
  certValidity: number
  caValidity: number
  force: boolean
}
interface IssueMemberFlags extends MemberFlags {
  dir: string
  outDir: string
  keySize: KeySize
  certValidity: number
}
interface IssueClientFlags {
  dir: string
  user: string
  org: string[]
  outDir?: string
  keySize: KeySize
  certValidity: number
}

function memberFrom(opts: MemberFlags): Member {
  return { nodeName: opts.nodeName, advertiseAddress: opts.advertiseAddress, serverCertSans: opts.serverCertSans, peerCertSans: opts.peerCertSans }
}

function sansSentence(member: Member, name: 'etcd-server' | 'etcd-peer'): string {
  const { dnsNames, ipAddresses } = memberAltNames(member.nodeName, member.advertiseAddress, name === 'etcd-server' ? member.serverCertSans : member.peerCertSans)
  return `DNS names [${dnsNames.join(' ')}] and IPs [${ipAddresses.join(' ')}]`
}

/** Runs an action; a failure becomes one line on stderr and exit status 1 instead of a stack trace. */
function run<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args)
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`)
      process.exitCode = 1
    }
  }
}

const dirOption = () => new Option('--dir <dir>', 'certificates directory (kubeadm layout)').default(DEFAULT_PKI_DIR)

function keySizeOption(fallback?: KeySize): Option {
  const option = new Option('--key-size <bits>', 'RSA key size: 2048, 3072 or 4096').argParser(argument(parseKeySize))
  return fallback === undefined ? option : option.default(fallback)
}

const certValidityOption = () => new Option('--cert-validity <duration>', 'validity of leaf certificates').argParser(durationArg).default(parseDuration('8760h'), '8760h')
const caValidityOption = () => new Option('--ca-validity <duration>', 'validity of a new CA').argParser(durationArg).default(parseDuration('87600h'), '87600h')

function durationArg(text: string): number {
  return argument(parseDuration)(text)
}

/** Turns a parser's Error into commander's usage error, so a bad flag value is reported as such. */
function argument<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text)
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message)
    }
  }
}

function splitList(text: string, previous: string[]): string[] {
  return [...previous, ...text.split(',').map((s) => s.trim()).filter((s) => s !== '')]
}

function collect(text: string, previous: string[]): string[] {
  return [...previous, text]
}
