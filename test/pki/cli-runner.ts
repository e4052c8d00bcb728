import { fileURLToPath } from 'node:url'
import { run, type ExecResult } from './etcd-cluster.js'

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url))

/** Runs the real `etcdgw certs …` command line in a child process. */
export function certsCli(...args: string[]): Promise<ExecResult> {
  return run(process.execPath, [MAIN, 'certs', ...args], 60_000)
}
