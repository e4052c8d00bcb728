/** One HTTP request of a conformance case, sent verbatim to both servers. */
export interface Step {
  path: string
  /** The raw request body, so malformed JSON is expressible. Default: empty. */
  body?: string
  /** Default: POST. */
  method?: string
  /** Extra request headers; null removes a default (content-type is application/json unless given). */
  headers?: Record<string, string | null>
  /** What this step checks, shown in the report (for cases that chain several checks). */
  label?: string
}

/** Flags both servers are started with for a case. */
export interface ServerOptions {
  maxRequestBytes?: number
}

/**
 * A request sequence run on fresh instances of real etcd and of the server under test. The expected
 * answers are never written down: they are real etcd's live responses.
 */
export interface ConformanceCase {
  name: string
  steps: Step[]
  server?: ServerOptions
}
