/**
 * A worker thread's fileSha256: its data is { fd, bytes } (a file the process has open, read with
 * positioned reads, so the opener may go on reading it), its one message the digest or null.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { fileSha256 } from './file-sha256.js'

const { fd, bytes } = workerData as { fd: number; bytes: number }
parentPort!.postMessage(fileSha256(fd, bytes) ?? null)
