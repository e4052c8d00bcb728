import { hostname } from 'node:os'
import { Command, InvalidArgumentError, Option } from 'commander'
import {
  advanceRotation,
  auditPki,
  DEFAULT_KEY_TYPE,
  DEFAULT_PKI_DIR,
  formatExpirationJson,
  formatExpirationPrometheus,
  formatExpirationText,
  formatExpirationYaml,
  generateCsrs,
  initPki,
  isLeafName,
  issueClientCert,
  issueMemberCerts,
  LEAF_NAMES,
  CA_NAME,
  KEY_TYPES,
  needsAttention,
  parseDuration,
  parseKeyType,
  readExpirationInfo,
  renewCert,
  ROTATION_ADVICE,
  rotationStatus,
  verifyPki,
  type KeyType,
  type LeafName,
  type Member,
  type RenewResult,
} from '../../pki/index.js'
import { attentionLines, initLines, RENEW_DONE, renewLine, rotationStatusText, verifyJson, verifyText } from './certs-output.js'

/** `etcdgw certs …`: kubeadm-compatible etcd certificates (pki/). Failures print one line and exit 1. */
export function registerCertsCommands(program: Command): void {
  const certs = program.command('certs').description('create, issue, check, renew, rotate and verify the etcd certificates (kubeadm layout)')
  registerInit(certs)
  const issue = certs.command('issue').description('issue certificates from an existing etcd CA')
  registerIssueMember(issue)
  registerIssueClient(issue)
  registerGenerateCsr(certs)
  registerCheckExpiration(certs)
  registerRenew(certs)
  registerRotateCa(certs)
  registerVerify(certs)
}

function registerInit(certs: Command): void {
  memberOptions(certs.command('init'))
    .description('create etcd-ca, etcd-server, etcd-peer, etcd-healthcheck-client and apiserver-etcd-client as kubeadm does')
    .addOption(dirOption())
    .addOption(keyTypeOption(DEFAULT_KEY_TYPE))
    .addOption(new Option('--ca-key-type <type>', `key type of a new CA (default: --key-type): ${KEY_TYPES.join(', ')}`).argParser(argument(parseKeyType)))
    .addOption(certValidityOption())
    .addOption(caValidityOption())
    .option('--force', 'replace existing files instead of keeping them', false)
    .action(run(async (opts: MemberFlags & { dir: string; keyType: KeyType; caKeyType?: KeyType; certValidity: number; caValidity: number; force: boolean }) => {
      const member = memberFrom(opts)
      const report = await initPki({
        dir: opts.dir,
        member,
        keyType: opts.keyType,
        ...(opts.caKeyType ? { caKeyType: opts.caKeyType } : {}),
        certValidityMs: opts.certValidity,
        caValidityMs: opts.caValidity,
        now: new Date(),
        force: opts.force,
      })
      const lines = initLines(opts.dir, member, report)
      process.stderr.write(lines.stderr)
      process.stdout.write(lines.stdout)
    }))
}

function registerIssueMember(issue: Command): void {
  memberOptions(issue.command('member'), { required: true })
    .description('server and peer certificates for another etcd member, plus its copy of etcd/ca.crt, into its own directory')
    .addOption(dirOption())
    .requiredOption('--out-dir <dir>', 'the member\'s certificates directory (kubeadm layout)')
    .addOption(keyTypeOption(DEFAULT_KEY_TYPE))
    .addOption(certValidityOption())
    .action(run(async (opts: MemberFlags & { dir: string; outDir: string; keyType: KeyType; certValidity: number }) => {
      const issued = await issueMemberCerts(memberFrom(opts), { dir: opts.dir, outDir: opts.outDir, keyType: opts.keyType, validityMs: opts.certValidity, now: new Date() })
      for (const file of issued) process.stdout.write(`[certs] ${file.name}: ${file.file} (serial ${file.serial})\n`)
    }))
}

function registerIssueClient(issue: Command): void {
  issue
    .command('client')
    .description('a client certificate (clientAuth) whose CN is the etcd user: <out-dir>/<user>.crt and .key')
    .addOption(dirOption())
    .requiredOption('--user <name>', 'the etcd user (certificate CN)')
    .option('--org <name>', 'an organization (O); repeat for several', collect, [])
    .option('--out-dir <dir>', 'where to write the files (default: --dir)')
    .addOption(keyTypeOption(DEFAULT_KEY_TYPE))
    .addOption(certValidityOption())
    .action(run(async (opts: { dir: string; user: string; org: string[]; outDir?: string; keyType: KeyType; certValidity: number }) => {
      const file = await issueClientCert(opts.user, opts.org, { dir: opts.dir, outDir: opts.outDir ?? opts.dir, keyType: opts.keyType, validityMs: opts.certValidity, now: new Date() })
      process.stdout.write(`[certs] client ${file.name}: ${file.file} (serial ${file.serial})\n`)
    }))
}

function registerGenerateCsr(certs: Command): void {
  memberOptions(certs.command('generate-csr'))
    .description('for an external CA: a new key and a CSR (kubeadm\'s subject, SANs and usages) per certificate, <name>.key and <name>.csr')
    .addOption(dirOption())
    .addOption(keyTypeOption(DEFAULT_KEY_TYPE))
    .action(run(async (opts: MemberFlags & { dir: string; keyType: KeyType }) => {
      for (const files of await generateCsrs({ dir: opts.dir, member: memberFrom(opts), keyType: opts.keyType })) {
        process.stdout.write(`[certs] ${files.name}: key ${files.key}, request ${files.csr}\n`)
      }
    }))
}

function registerCheckExpiration(certs: Command): void {
  certs
    .command('check-expiration')
    .description('kubeadm\'s expiry table; exits 1 when a certificate is missing, expired or expires within --warn')
    .addOption(dirOption())
    .addOption(new Option('-o, --output <format>', 'output format; prometheus: a node-exporter textfile in x509-certificate-exporter\'s metrics').choices(['text', 'json', 'yaml', 'prometheus']).default('text'))
    .option('--warn <duration>', 'exit 1 when something expires within this time', durationArg, parseDuration('30d'))
    .action(run(async (opts: { dir: string; output: 'text' | 'json' | 'yaml' | 'prometheus'; warn: number }) => {
      const now = new Date()
      const info = await readExpirationInfo(opts.dir, now)
      const formats = {
        text: async () => formatExpirationText(info, now),
        json: async () => formatExpirationJson(info),
        yaml: async () => formatExpirationYaml(info),
        prometheus: () => formatExpirationPrometheus(opts.dir, now),
      }
      process.stdout.write(await formats[opts.output]())
      const attention = needsAttention(info, opts.warn)
      process.stderr.write(attentionLines(attention))
      if (attention.length > 0) process.exitCode = 1
    }))
}

function registerRenew(certs: Command): void {
  certs
    .command('renew')
    .description(`renew a certificate with a new key from the CA on disk, keeping its subject, SANs and usages (${LEAF_NAMES.join(', ')}, or all); CAs are never renewed`)
    .argument('<name>', 'certificate name or "all"')
    .addOption(dirOption())
    .addOption(certValidityOption())
    .addOption(keyTypeOption())
    .option('--add-san <list>', 'IP addresses or DNS names to add (comma-separated or repeated)', splitList, [])
    .option('--remove-san <list>', 'IP addresses or DNS names to remove (comma-separated or repeated)', splitList, [])
    .action(run(async (name: string, opts: { dir: string; certValidity: number; keyType?: KeyType; addSan: string[]; removeSan: string[] }) => {
      if (name !== 'all' && !isLeafName(name)) throw new Error(`unknown certificate "${name}" (one of ${LEAF_NAMES.join(', ')}, all; ${CA_NAME} is never renewed)`)
      const changesSans = opts.addSan.length + opts.removeSan.length > 0
      if (name === 'all' && changesSans) throw new Error('--add-san and --remove-san change one certificate: name it instead of "all"')
      const names: readonly LeafName[] = name === 'all' ? LEAF_NAMES : [name as LeafName]
      const options = { dir: opts.dir, validityMs: opts.certValidity, now: new Date(), addSans: opts.addSan, removeSans: opts.removeSan, ...(opts.keyType ? { keyType: opts.keyType } : {}) }
      const results: RenewResult[] = []
      for (const leaf of names) {
        const result = await renewCert(leaf, options)
        results.push(result)
        process.stdout.write(renewLine(result))
      }
      if (results.some((r) => r.status === 'renewed')) process.stdout.write(RENEW_DONE)
    }))
}

function registerRotateCa(certs: Command): void {
  certs
    .command('rotate-ca')
    .description('rotate etcd-ca in stages (trust old+new, re-issue leaves, drop the old CA); each call runs the next stage, "status" shows it')
    .argument('[action]', '"status" to show the stage without changing anything')
    .addOption(dirOption())
    .addOption(keyTypeOption(undefined, 'key type of the new CA (default: that of the current CA)'))
    .addOption(new Option('--leaf-key-type <type>', 'key type of the re-issued leaves (default: each keeps its own)').argParser(argument(parseKeyType)))
    .addOption(caValidityOption())
    .addOption(certValidityOption())
    .action(run(async (action: string | undefined, opts: { dir: string; keyType?: KeyType; leafKeyType?: KeyType; caValidity: number; certValidity: number }) => {
      if (action !== undefined && action !== 'status') throw new Error(`unknown rotate-ca action "${action}" (only "status")`)
      if (action === 'status') {
        process.stdout.write(rotationStatusText(await rotationStatus(opts.dir)))
        return
      }
      const step = await advanceRotation({
        dir: opts.dir,
        now: new Date(),
        caValidityMs: opts.caValidity,
        certValidityMs: opts.certValidity,
        ...(opts.keyType ? { keyType: opts.keyType } : {}),
        ...(opts.leafKeyType ? { leafKeyType: opts.leafKeyType } : {}),
      })
      process.stdout.write(`rotate-ca: ${step.from} -> ${step.to}\n${step.written.map((file) => `  wrote ${file}\n`).join('')}${ROTATION_ADVICE[step.to]}\n`)
    }))
}

function registerVerify(certs: Command): void {
  certs
    .command('verify')
    .description('check chain, key, usages, SANs and validity of every certificate (also those signed by an external CA), and audit file modes, owners, symlinks, weak keys and SHA-1; exits 1 on any problem')
    .addOption(dirOption())
    .option('--host <name>', 'a DNS name the server and peer certificates must cover')
    .option('--ip <address>', 'an IP address the server and peer certificates must cover')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(run(async (opts: { dir: string; host?: string; ip?: string; output: 'text' | 'json' }) => {
      const problems = await verifyPki({ dir: opts.dir, now: new Date(), ...(opts.host ? { host: opts.host } : {}), ...(opts.ip ? { ip: opts.ip } : {}) })
      const findings = await auditPki(opts.dir)
      if (opts.output === 'json') process.stdout.write(verifyJson(problems, findings))
      else if (problems.length + findings.length > 0) process.stderr.write(verifyText(problems, findings))
      else process.stdout.write(`${opts.dir}: all certificates verified, no audit findings\n`)
      if (problems.length + findings.length > 0) process.exitCode = 1
    }))
}

interface MemberFlags {
  nodeName: string
  advertiseAddress: string
  serverCertSans: string[]
  peerCertSans: string[]
}

/** A member's name, address and extra SANs: `init` defaults the name to this host, the others require both. */
function memberOptions(command: Command, { required = false } = {}): Command {
  const name = new Option('--node-name <name>', 'the member\'s name: CN and DNS SAN of its server and peer certificates')
  return command
    .addOption(required ? name.makeOptionMandatory() : name.default(hostname().toLowerCase()))
    .requiredOption('--advertise-address <ip>', 'the member\'s IP: IP SAN of its server and peer certificates')
    .option('--server-cert-sans <list>', 'extra SANs (DNS names or IPs) for the server certificate', splitList, [])
    .option('--peer-cert-sans <list>', 'extra SANs (DNS names or IPs) for the peer certificate', splitList, [])
}

function memberFrom(opts: MemberFlags): Member {
  return { nodeName: opts.nodeName, advertiseAddress: opts.advertiseAddress, serverCertSans: opts.serverCertSans, peerCertSans: opts.peerCertSans }
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

function keyTypeOption(fallback?: KeyType, description = `key type: ${KEY_TYPES.join(', ')}`): Option {
  const option = new Option('--key-type <type>', fallback === undefined ? `${description} (default: that of the key replaced)` : description).argParser(argument(parseKeyType))
  return fallback === undefined ? option : option.default(fallback)
}

const certValidityOption = () => new Option('--cert-validity <duration>', 'validity of leaf certificates (Go duration; d for days)').argParser(validityArg).default(parseDuration('8760h'), '8760h')
const caValidityOption = () => new Option('--ca-validity <duration>', 'validity of a new CA (Go duration; d for days)').argParser(validityArg).default(parseDuration('87600h'), '87600h')

const validityArg = argument((text: string) => {
  const ms = parseDuration(text)
  if (ms <= 0) throw new Error(`validity must be longer than 0, got "${text}"`)
  return ms
})

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
