/** Scripted Auth sessions: unary requests as named users (their tokens kept by name), answers normalized for comparison. */
import { normalize, openHttpStream } from './stream-clients.js'

export interface AuthStep {
  path: string
  body?: unknown
  /** Send the token saved under this name (Authorization: <token>), or this literal header set. */
  as?: string
  headers?: Record<string, string>
  /** Keep the answer's token under this name. */
  save?: string
}

export const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64')

/** root (password r), and app1 (password a) who may read and write app/ only; auth enabled, both tokens saved. */
export const ROOT_AND_APP1: AuthStep[] = [
  { path: '/v3/auth/user/add', body: { name: 'root', password: 'r' } },
  { path: '/v3/auth/user/grant', body: { user: 'root', role: 'root' } },
  { path: '/v3/auth/user/add', body: { name: 'app1', password: 'a' } },
  { path: '/v3/auth/role/add', body: { name: 'app' } },
  { path: '/v3/auth/role/grant', body: { name: 'app', perm: { permType: 'READWRITE', key: b64('app/'), range_end: b64('app0') } } },
  { path: '/v3/auth/user/grant', body: { user: 'app1', role: 'app' } },
  { path: '/v3/auth/enable' },
  { path: '/v3/auth/authenticate', body: { name: 'root', password: 'r' }, save: 'root' },
  { path: '/v3/auth/authenticate', body: { name: 'app1', password: 'a' }, save: 'app1' },
]

/** The normalized answers of a server to the steps, in order. */
export class AuthSession {
  readonly tokens = new Map<string, string>()

  constructor(readonly url: string) {}

  headersFor(as: string | undefined): Record<string, string> {
    if (as === undefined) return {}
    const token = this.tokens.get(as)
    if (token === undefined) throw new Error(`no token saved as ${as}`)
    return { authorization: token }
  }

  async send(step: AuthStep): Promise<string> {
    const headers = { ...this.headersFor(step.as), ...step.headers }
    const body = typeof step.body === 'string' ? step.body : JSON.stringify(step.body ?? {})
    const res = await fetch(this.url + step.path, { method: 'POST', body, headers })
    const text = await res.text()
    if (step.save) {
      const token = (JSON.parse(text) as { token?: string }).token
      if (token === undefined) throw new Error(`${step.path} gave no token: ${text}`)
      this.tokens.set(step.save, token)
    }
    return `${step.path}${step.as ? ` as ${step.as}` : ''} ${res.status} ${mask(text)}`
  }

  async run(steps: AuthStep[]): Promise<string[]> {
    const out: string[] = []
    for (const step of steps) out.push(await this.send(step))
    return out
  }

  /** The first answer of a watch stream opened as `as` with one create request. */
  async watchCreate(as: string | undefined, create: Record<string, unknown>): Promise<string> {
    const stream = openHttpStream(this.url, '/v3/watch', this.headersFor(as))
    try {
      stream.send(JSON.stringify({ create_request: create }))
      const [first] = await stream.waitFor(1)
      return mask(first ?? 'no answer')
    } finally {
      stream.close()
    }
  }
}

/** Tokens differ between servers by nature. */
export function mask(text: string): string {
  return normalize(text).replace(/"token":"[^"]*"/g, '"token":"T"')
}
