/** `etcdgw serve` as a child process on a free port, with its output kept for assertions. */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { guardChild } from './process.js'

export const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

export interface ServeProcess {
  child: ChildProcess
  /** the first URL it serves on */
  url: string
  output(): string
  /** resolves when the output matches (bounded by timeoutMs) */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>
}

export function startServe(t: Test, args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [MAIN, 'serve', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  guardChild(child)
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    out += chunk.toString()
    for (const waiter of waiters) waiter()
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(out)) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${out}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`etcdgw serve exited with ${code}:\n${out}`)))
    waitForOutput(/try: curl/, 20_000).then(() => {
      const url = /serving the etcd v3 API on (https?:\/\/\S+)/.exec(out)![1]!
      resolve({ child, url, output: () => out, waitForOutput })
    }, reject)
  })
}
