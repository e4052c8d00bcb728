/**
 * Scripted stream sessions run against two servers in lockstep, giving comparable transcripts: every
 * unary answer, and the stream messages that arrived by each `expect`.
 */
import { normalize, openStream, post, type StreamClient, type Transport } from './stream-clients.js'

export interface Context {
  /** header.revision of the last unary response. */
  rev: number
}

export type Step =
  /** Stream request text (objects are JSON-encoded). */
  | { send: unknown | ((ctx: Context) => unknown) }
  /** A unary request on the same server. */
  | { unary: string; body: unknown | ((ctx: Context) => unknown) }
  /** Waits until the stream has `expect` messages in total and records the new ones. */
  | { expect: number; timeoutMs?: number; unordered?: boolean }
  | { sleepMs: number }
  | { endRequest: true }

export interface Scenario {
  name: string
  path?: string
  steps: Step[]
  /** Hides what legitimately differs (e.g. server-chosen lease IDs). */
  mask?: (s: string) => string
}

const TIMED_OUT = '(timed out)'

/**
 * Whether every `expect` of a transcript got its messages before its timeout. A scenario whose reference
 * (etcd) misses one counts wrong: both servers then wait out the timeout, and it compares nothing more.
 */
export function reachedEveryExpect(transcript: string[]): boolean {
  return !transcript.some((line) => line.startsWith('expect ') && line.endsWith(TIMED_OUT))
}

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))

export async function runScenario(s: Scenario, transport: Transport, baseUrl: string): Promise<string[]> {
  const out: string[] = []
  const ctx: Context = { rev: 0 }
  const mask = (m: string) => (s.mask ? s.mask(normalize(m)) : normalize(m))
  let stream: StreamClient | undefined
  let seen = 0
  const open = async () => (stream ??= await openStream(transport, baseUrl, s.path ?? '/v3/watch'))
  for (const step of s.steps) {
    if ('send' in step) {
      const v = typeof step.send === 'function' ? step.send(ctx) : step.send
      ;(await open()).send(text(v))
    } else if ('unary' in step) {
      const body = typeof step.body === 'function' ? step.body(ctx) : step.body
      const r = await post(baseUrl, step.unary, text(body))
      const rev = /"revision":"(\d+)"/.exec(r.body)
      if (rev) ctx.rev = Number(rev[1])
      out.push(`${step.unary} ${r.status} ${mask(r.body)}`)
    } else if ('expect' in step) {
      const all = await (await open()).waitFor(step.expect, step.timeoutMs)
      const fresh = all.slice(seen).map(mask)
      seen = all.length
      if (step.unordered) fresh.sort()
      out.push(`expect ${step.expect}: ${fresh.length}${all.length < step.expect ? ` ${TIMED_OUT}` : ''}`, ...fresh)
    } else if ('sleepMs' in step) {
      await new Promise((r) => setTimeout(r, step.sleepMs))
    } else {
      ;(await open()).endRequest()
    }
  }
  if (stream) {
    await new Promise((r) => setTimeout(r, 250))
    const extra = stream.messages.slice(seen).map(mask)
    if (extra.length) out.push('extra:', ...extra)
    if (transport === 'http') out.push(`status ${stream.response?.statusCode ?? 'none'}`)
    stream.close()
  }
  return out
}
