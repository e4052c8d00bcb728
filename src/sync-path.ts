/** Makes a file's data, or a directory's names (a file created, renamed or removed in it), durable. */
import { closeSync, fsyncSync, openSync } from 'node:fs'

export function syncPath(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
