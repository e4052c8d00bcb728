/**
 * `work`, or a rejection naming `what` when it has not settled within `ms`: a hang fails its test with a
 * reason instead of stalling the whole file until the runner's timeout.
 */
export function settlesWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms / 1000} s`)), ms)
  })
  return Promise.race([work, stuck]).finally(() => clearTimeout(timer))
}
