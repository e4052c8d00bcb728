/**
 * How many rows the revisions table holds after each of the latest revisions, so that a count at a past
 * revision knows what reading back the rows written since would cost before it reads any.
 */
export const ROW_COUNTS_WINDOW = 1 << 16
const WINDOW = ROW_COUNTS_WINDOW

/** The counts as a restart state saves them. */
export interface SavedRowCounts {
  latest: number
  total: number
  upTo: Float64Array
}

/**
 * Reading a row back costs about as much as visiting 20 keys of the key index (measured at 1,000,000 keys):
 * a count or a watch's catch-up visits keys when there are more than this many per row it would read instead.
 */
export const KEYS_PER_ROW_READ = 32

export class RowCounts {
  /** Rows up to and including revision r, at r % WINDOW, for the last WINDOW revisions. */
  private upTo: Float64Array = new Float64Array(WINDOW)
  private latest = 0
  private total = 0

  /** What save() gave; the counts go on from there. */
  restore(saved: SavedRowCounts): void {
    this.upTo = saved.upTo
    this.latest = saved.latest
    this.total = saved.total
  }

  /** A copy of the counts. */
  save(): SavedRowCounts {
    return { latest: this.latest, total: this.total, upTo: this.upTo.slice() }
  }

  /** Adds `rows` rows of revision `main` (revisions come in order; one may come in several calls). */
  record(main: number, rows: number): void {
    if (main - this.latest > WINDOW) this.latest = main - WINDOW
    while (this.latest < main) this.upTo[++this.latest % WINDOW] = this.total
    this.total += rows
    this.upTo[main % WINDOW] = this.total
  }

  /** Rows after revision `rev`, or undefined when it is older than the window. */
  after(rev: number): number | undefined {
    if (rev >= this.latest) return 0
    if (this.latest - rev >= WINDOW) return undefined
    return this.total - this.upTo[rev % WINDOW]!
  }
}
