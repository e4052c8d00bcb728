/** The console section's samples from one store behind the console, their spread, and the speed targets they are held to. */
import { median, percentile } from './stats.js'

/** Milliseconds, one sample a page or a put. */
export interface ConsoleSamples {
  /** from Enter in the search box to the first page shown, each in a freshly loaded console */
  firstPage: number[]
  /** from a click on Next to the next page shown, page after page */
  nextPage: number[]
  /** from a put sent over HTTP to its row shown in the Watch view */
  watch: number[]
}

export interface Spread {
  median: number
  p95: number
  max: number
  count: number
}

/** Median, 95th percentile and maximum of the finite samples; NaN (count 0) when there are none. */
export function spreadOf(samples: readonly number[]): Spread {
  const sorted = samples.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return { median: NaN, p95: NaN, max: NaN, count: 0 }
  return { median: median(sorted), p95: percentile(sorted, 0.95), max: sorted[sorted.length - 1]!, count: sorted.length }
}

/** The console's speed targets: each holds for every sample, so the slowest one decides. */
export const CONSOLE_TARGETS: readonly { what: string; limitMs: number; samples: (s: ConsoleSamples) => number[] }[] = [
  { what: 'first page shown', limitMs: 1000, samples: (s) => s.firstPage },
  { what: 'every next page shown', limitMs: 300, samples: (s) => s.nextPage },
  { what: 'a put shown by a watch', limitMs: 1000, samples: (s) => s.watch },
]

export interface ConsoleCheck {
  /** e.g. "every next page shown < 300 ms" */
  goal: string
  spread: Spread
  /** undefined: nothing measured */
  met: boolean | undefined
}

export function checkConsole(samples: ConsoleSamples): ConsoleCheck[] {
  return CONSOLE_TARGETS.map((t) => {
    const spread = spreadOf(t.samples(samples))
    return { goal: `${t.what} < ${t.limitMs} ms`, spread, met: spread.count === 0 ? undefined : spread.max < t.limitMs }
  })
}
