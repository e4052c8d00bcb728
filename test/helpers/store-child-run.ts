/** Runs test/helpers/store-child.ts on a data dir at one of its steps, for the tests that kill it part way. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { guardChild } from './process.js'

const CHILD = fileURLToPath(new URL('./store-child.js', import.meta.url))

export function startChild(dir: string, step: string) {
  const child = spawn(process.execPath, [CHILD, dir, step], { stdio: ['ignore', 'pipe', 'inherit'] })
  guardChild(child)
  let out = ''
  const lines = new Set<(text: string) => void>()
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    for (const check of lines) check(out)
  })
  // 'close', not 'exit': by then every line the child printed has been read
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('close', (code, signal) => resolve(signal ?? code)))
  return {
    /** Resolves when the child has printed `line`, or a line `line` matches (rejects if it exits first). */
    printed: (line: string | RegExp) =>
      new Promise<void>((resolve, reject) => {
        const check = (text: string) => {
          const said = text.split('\n')
          if (!(typeof line === 'string' ? said.includes(line) : said.some((l) => line.test(l)))) return
          lines.delete(check)
          resolve()
        }
        lines.add(check)
        check(out)
        void exited.then((how) => reject(new Error(`the store child exited (${how}) before printing ${line}:\n${out}`)))
      }),
    output: () => out,
    /** How the child ended: its signal or exit code. */
    exited,
    kill: () => {
      process.kill(child.pid!, 'SIGKILL')
      return exited
    },
  }
}
