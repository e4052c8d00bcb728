/**
 * etcd's --cors: the browser origins allowed to read the gateway's answers. With `*` (etcd's default)
 * every response carries etcd's three CORS headers with `Access-Control-Allow-Origin: *`; with a list,
 * only a response to a request whose Origin is listed carries them, naming that origin. As etcd, the
 * request is served either way: CORS only decides whether a browser lets the page read the answer.
 *
 * Beyond etcd, which accepts only `scheme://host:port` and compares the Origin header as written (so an
 * origin on its scheme's default port, which browsers send without the port, can never match), a listed
 * origin may leave out its port and is compared as browsers write origins.
 */
export type CorsOrigins = '*' | ReadonlySet<string>

const METHODS_AND_HEADERS = {
  'access-control-allow-methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'access-control-allow-headers': 'accept, content-type, authorization',
}
const ANY_ORIGIN_HEADERS = { 'access-control-allow-origin': '*', ...METHODS_AND_HEADERS }

/** The --cors value: comma-separated origins, or `*` (also etcd's meaning of an empty value). Throws on anything else. */
export function parseCorsOrigins(value: string): CorsOrigins {
  const entries = value.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (entries.length === 0 || entries.includes('*')) return '*'
  return new Set(entries.map(originOf))
}

function originOf(entry: string): string {
  let url: URL | undefined
  try {
    url = new URL(entry)
  } catch {
    url = undefined
  }
  const bare = url && (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === ''
  if (!url || !bare || url.search !== '' || url.hash !== '' || !/^[a-z]+:\/\/[^/]+\/?$/i.test(entry)) {
    throw new Error(`"${entry}" is not an origin: give scheme://host[:port] (http or https, no path), or * for every origin`)
  }
  return url.origin
}

export class Cors {
  constructor(private readonly origins: CorsOrigins) {}

  /** The headers a response to a request from `origin` (its Origin header) carries; none when it is not allowed. */
  headersFor(origin: string | undefined): Readonly<Record<string, string>> | undefined {
    if (this.origins === '*') return ANY_ORIGIN_HEADERS
    if (origin === undefined || !this.origins.has(origin)) return undefined
    return { 'access-control-allow-origin': origin, ...METHODS_AND_HEADERS }
  }

  /** True when --cors names `origin` itself (not just `*`): its pages may send requests that change state. */
  names(origin: string): boolean {
    return this.origins !== '*' && this.origins.has(origin)
  }
}
