/**
 * A backup's verification on a worker thread: reading and decoding every page of a snapshot takes seconds
 * for a large store, and inside `etcdgw serve` that would stall every client for as long. The worker runs
 * this same module; its answer is the Verified record, or the error it threw, rebuilt as the same EtcdError.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { EtcdError, etcdErrorFrom, type EtcdErrorFields } from '../errors.js'
import { type Verified, verifySnapshotFile } from './verify.js'

const JOB = 'etcdgw-verify-snapshot'

type Answer = { ok: true; verified: Verified } | { ok: false; etcd?: EtcdErrorFields; message: string }

/** verifySnapshotFile(path), off the event loop. */
export function verifyOffThread(path: string): Promise<Verified> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { job: JOB, path } })
    let answered = false
    worker.once('message', (answer: Answer) => {
      answered = true
      if (answer.ok) resolve(answer.verified)
      else reject(answer.etcd ? etcdErrorFrom(answer.etcd) : new Error(answer.message))
    })
    worker.once('error', reject)
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`snapshot verification stopped (worker exit code ${code})`))
    })
  })
}

if (!isMainThread && (workerData as { job?: string } | null)?.job === JOB) {
  let answer: Answer
  try {
    answer = { ok: true, verified: verifySnapshotFile((workerData as { path: string }).path) }
  } catch (err) {
    const message = (err as Error).message
    answer = err instanceof EtcdError ? { ok: false, etcd: { code: err.code, grpcCode: err.grpcCode, message }, message } : { ok: false, message }
  }
  parentPort!.postMessage(answer)
}
