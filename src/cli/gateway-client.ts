/** The CLI's client for a gateway (ours or etcd's own): JSON over HTTP or HTTPS, etcd's error bodies. */
import { readFileSync } from 'node:fs'
import { type IncomingMessage, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { type Command, Option } from 'commander'

export const endpointsOption = () =>
  new Option('--endpoints <urls>', 'comma-separated gateway URLs').env('ETCDCTL_ENDPOINTS').default('http://127.0.0.1:2379')

export const writeOutOption = (choices: string[]) =>
  new Option('-w, --write-out <format>', 'output format').choices(choices).default('simple')

/** etcdctl's client TLS and user flags, with their ETCDCTL_* variables. */
export function addAccessOptions(command: Command): Command {
  return command
    .addOption(new Option('--cacert <file>', 'verify the gateway\'s certificate with this CA bundle').env('ETCDCTL_CACERT'))
    .addOption(new Option('--cert <file>', 'client certificate for an https gateway').env('ETCDCTL_CERT'))
    .addOption(new Option('--key <file>', 'key of the client certificate').env('ETCDCTL_KEY'))
    .addOption(new Option('--user <name[:password]>', 'the etcd user to act as, when auth is enabled').env('ETCDCTL_USER'))
    .addOption(new Option('--password <password>', 'the password of --user (then --user holds the name alone)').env('ETCDCTL_PASSWORD'))
}

export interface AccessFlags {
  cacert?: string
  cert?: string
  key?: string
  user?: string
  password?: string
}

/**
 * What the CLI presents to a gateway: the https options the flags name, read once (a certificate without
 * its key, or the reverse, is refused), and the etcd user whose token goes with every request.
 */
export interface GatewayAccess {
  ca?: Buffer
  cert?: Buffer
  key?: Buffer
  login?: Login
}

export function gatewayAccess(flags: AccessFlags): GatewayAccess {
  if ((flags.cert === undefined) !== (flags.key === undefined)) fail('--cert and --key must be given together')
  const read = (flag: string, file: string | undefined) => {
    if (file === undefined) return undefined
    try {
      return readFileSync(file)
    } catch (err) {
      fail(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
  }
  const ca = read('--cacert', flags.cacert)
  const cert = read('--cert', flags.cert)
  const key = read('--key', flags.key)
  const login = flags.user === undefined ? undefined : loginOf(flags.user, flags.password)
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(login ? { login } : {}) }
}

/** etcdctl's rules for --user name[:password] and --password (no prompt: the password comes with the flags). */
function loginOf(user: string, password: string | undefined): Login {
  const colon = user.indexOf(':')
  if (colon >= 0 && password !== undefined) fail('--password and a password in --user name:password are both given')
  const name = colon >= 0 ? user.slice(0, colon) : user
  if (name === '') fail('--user: the user name is empty')
  const secret = colon >= 0 ? user.slice(colon + 1) : password
  if (secret === undefined) fail(`--user ${name}: no password (give --user ${name}:PASSWORD, --password or ETCDCTL_PASSWORD)`)
  return new Login(name, secret)
}

/**
 * An etcd user's token from each gateway it is asked of (a simple token belongs to the server that issued
 * it), fetched once per gateway with /v3/auth/authenticate.
 */
export class Login {
  private readonly tokens = new Map<string, Promise<string>>()

  constructor(
    readonly name: string,
    private readonly password: string,
  ) {}

  token(endpoint: string, tls: GatewayAccess): Promise<string> {
    let token = this.tokens.get(endpoint)
    if (!token) {
      // etcdctl authenticates as it connects, and a refusal ends it as a failed connection
      token = rpc<{ token: string }>(endpoint, 'auth/authenticate', { name: this.name, password: this.password }, tls).then(
        (r) => r.token,
        (err: Error) => fail(err.message, EXIT_BAD_CONNECTION),
      )
      this.tokens.set(endpoint, token)
    }
    return token
  }

  /** Forgets the gateway's token (it expired): the next request authenticates again. */
  forget(endpoint: string): void {
    this.tokens.delete(endpoint)
  }
}

export function endpointList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== '')
}

export class GatewayError extends Error {}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: { code?: string; message?: string } }
  return e.code ?? e.cause?.code ?? e.cause?.message ?? e.message
}

/**
 * POSTs `body` to `url` (a gateway's /v3/ path; asking for the `accept` media types, when given), with the
 * login's token for that gateway when there is one; resolves with the response once its headers arrive.
 * Network errors become GatewayErrors.
 */
export async function post(url: string, body: string, access: GatewayAccess = {}, timeoutMs?: number, accept?: string): Promise<IncomingMessage> {
  const https = url.startsWith('https:')
  const { login, ...tls } = access
  // etcd's gateway takes the token as the whole Authorization header
  const authorization = login ? await login.token(url.slice(0, url.indexOf('/v3/')), tls) : undefined
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', ...(accept ? { accept } : {}), ...(authorization ? { authorization } : {}) }
    const options = { method: 'POST', headers, ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) }
    const req = https ? httpsRequest(url, { ...options, ...tls }, resolve) : httpRequest(url, options, resolve)
    req.on('error', (err) => reject(new GatewayError(describe(err))))
    req.end(body)
  })
}

async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

/** POST /v3/<path>; resolves to the parsed JSON body, rejects with etcd's message on an error body. */
export async function rpc<T>(endpoint: string, path: string, body: unknown = {}, tls: GatewayAccess = {}, timeoutMs = 5_000): Promise<T> {
  const res = await post(`${endpoint}/v3/${path}`, JSON.stringify(body), tls, timeoutMs)
  let text: string
  try {
    text = await readAll(res)
  } catch (err) {
    throw new GatewayError(describe(err))
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError(`${res.statusCode} ${text.trim()}`)
  }
  if (res.statusCode !== 200) throw new GatewayError((parsed as { message?: string }).message ?? `HTTP ${res.statusCode}`)
  return parsed as T
}

/** etcdctl's exit codes: a failed command, and a client that could not connect (or authenticate). */
const EXIT_ERROR = 1
const EXIT_BAD_CONNECTION = 2

/** Prints the error the way the commands end on failure, with etcdctl's exit code. */
export function fail(message: string, code = EXIT_ERROR): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(code)
}
