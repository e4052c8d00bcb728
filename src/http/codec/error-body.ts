/** The error body etcd's gateway (grpc-gateway v1) writes: `error` and `message` carry the same text. */
import { goJsonString } from '../go-text.js'

export function encodeError(message: string, code: number): string {
  const m = goJsonString(message)
  return `{"error":${m},"message":${m},"code":${code}}`
}
