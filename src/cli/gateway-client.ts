/** The CLI's client for a gateway (ours or etcd's own): JSON over HTTP, etcd's error bodies. */
import { Option } from 'commander'

export const endpointsOption = () =>
  new Option('--endpoints <urls>', 'comma-separated gateway URLs').env('ETCDCTL_ENDPOINTS').default('http://127.0.0.1:2379')

export const writeOutOption = (choices: string[]) =>
  new Option('-w, --write-out <format>', 'output format').choices(choices).default('simple')

export function endpointList(value: string): string[] {
  return value.split(',').map((s) => s.trim().replace(/\/+$/, '')).filter((s) => s !== '')
}

export class GatewayError extends Error {}

/** POST /v3/<path>; resolves to the parsed JSON body, rejects with etcd's message on an error body. */
export async function rpc<T>(endpoint: string, path: string, body: unknown = {}, timeoutMs = 5_000): Promise<T> {
  let res: Response
  try {
    res = await fetch(`${endpoint}/v3/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    throw new GatewayError(cause?.code ?? cause?.message ?? (err as Error).message)
  }
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError(`${res.status} ${text.trim()}`)
  }
  if (res.status !== 200) throw new GatewayError((parsed as { message?: string }).message ?? `HTTP ${res.status}`)
  return parsed as T
}

/** Prints the error the way the commands end on failure, with etcdctl's exit code. */
export function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}
